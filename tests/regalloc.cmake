# regalloc.cmake - the JIT's linear-scan register allocator (jit/regalloc.c): invariants on
# hand-built functions and on generated cases of both conventions.
if(TARGET afjit)
  af_test(test_regalloc SOURCES test_regalloc.c LABELS unit jit LIBS afjit)
endif()
