# oracle.cmake - tests of the reference interpreter and the C emitter (interp == compiled C).
af_test(test_interp SOURCES test_interp.c LABELS unit)
af_test(test_emit SOURCES test_emit.c LABELS oracle)
af_test(test_emit_gen SOURCES test_emit_gen.c LABELS oracle LIBS pthread)
