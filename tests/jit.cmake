# jit.cmake - tests of the JIT's foundations: the x86-64 encoder (golden, through Capstone)
# and W^X executable memory.
if(TARGET afjit)
  af_test(test_codemem SOURCES test_codemem.c LABELS unit LIBS afjit)
  if(CAPSTONE_FOUND)
    af_test(test_x86enc SOURCES test_x86enc.c LABELS unit needs-capstone
            LIBS afjit PkgConfig::CAPSTONE)
  endif()
endif()
