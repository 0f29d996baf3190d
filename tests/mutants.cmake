# mutants.cmake - the injectable ABI bugs (jit/mutants.c) must each be observable.
if(TARGET afjit)
  af_test(test_mutants SOURCES test_mutants.c LABELS unit jit LIBS afjit)
endif()
