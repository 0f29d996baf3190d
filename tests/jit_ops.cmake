# jit_ops.cmake - the op lowering (jit/lower_ops*.c, lower_rt.c) against the interpreter.
if(TARGET afjit)
  af_test(test_jit_ops SOURCES test_jit_ops.c LABELS unit jit LIBS afjit)
  target_include_directories(test_jit_ops PRIVATE ${CMAKE_SOURCE_DIR}/jit)
endif()
