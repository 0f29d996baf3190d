# ffi.cmake - libffi as an independent caller and callee of JIT-compiled code (oracle/ffi.c).
if(TARGET afjit)
  af_test(test_jit_ffi SOURCES test_jit_ffi.c LABELS unit jit oracle LIBS afjit)
endif()
