# share.cmake - one JIT compile shared by a case's legs (issue 9): af_jit_retain, af_jit_set_fns.
if(TARGET afjit)
  af_test(test_jit_share SOURCES test_jit_share.c LABELS unit jit LIBS afjit)
endif()
