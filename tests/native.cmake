# native.cmake - JIT-compiled entries called by clang-compiled C callers (af_emit_opts.extern_entry
# files built as shared objects), against the interpreter: the JIT issue's acceptance test
# for every generated case, not only those libffi can spell.
if(TARGET afjit)
  af_test(test_jit_native SOURCES test_jit_native.c LABELS unit jit oracle LIBS afjit)
endif()
