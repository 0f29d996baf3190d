# enc.cmake - the encoder's fast path (jit/x86_fast.c) against its reference (jit/x86_enc.c).
if(TARGET afjit)
  af_test(test_x86_fast SOURCES test_x86_fast.c LABELS unit jit LIBS afjit)
endif()
