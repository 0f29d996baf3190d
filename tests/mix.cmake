# mix.cmake - MIX's inline folds (jit/lower_mix.c): templates against the encoder, code against
# af_fold_operand.
if(TARGET afjit)
  af_test(test_mix_inline SOURCES test_mix_inline.c LABELS unit jit LIBS afjit)
  target_include_directories(test_mix_inline PRIVATE ${CMAKE_SOURCE_DIR}/jit)
endif()
