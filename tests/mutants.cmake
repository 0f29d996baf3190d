# mutants.cmake - the injectable ABI bugs (jit/mutants.c) must each be observable; the crash
# mutants and af_jit_addr_is_code (what a crash handler asks) in test_jit_crash.
if(TARGET afjit)
  af_test(test_mutants SOURCES test_mutants.c LABELS unit jit LIBS afjit)
  af_test(test_jit_crash SOURCES test_jit_crash.c LABELS unit jit LIBS afjit)
endif()
