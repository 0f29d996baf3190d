# run.cmake - helper RUN's tests (session 7): the MIX operand fold and af_jit_run's result.
if(TARGET afjit)
  af_test(test_run_fold SOURCES test_run_fold.c LABELS unit jit LIBS afjit)
endif()
