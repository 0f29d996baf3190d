# leg_ffi.cmake - the libffi legs (harness/leg_ffi.c): libffi calls the JIT entry, the JIT calls
# libffi closures; generated cases with the correct JIT and with mutants.
if(TARGET afharness)
  af_test(test_leg_ffi SOURCES test_leg_ffi.c LABELS unit LIBS afharness)
endif()
