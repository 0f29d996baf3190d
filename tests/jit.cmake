# jit.cmake - tests of the JIT: the x86-64 encoder (golden, through Capstone), W^X executable
# memory, and compiled cases against the interpreter (test_jit_run).
if(TARGET afjit)
  af_test(test_codemem SOURCES test_codemem.c LABELS unit LIBS afjit)
  if(CAPSTONE_FOUND)
    af_test(test_x86enc SOURCES test_x86enc.c LABELS unit needs-capstone
            LIBS afjit PkgConfig::CAPSTONE)
  endif()
  af_test(test_jit_run SOURCES test_jit_run.c LABELS unit jit LIBS afjit)
endif()
