# The generator's fast paths (issue 9): inline draws, cached picks, tail-only layout, the
# classifier's quirk shortcut, byte-wise bit-fields and the lean case init give exactly what the
# plain code gives.
af_test(test_gen_fast SOURCES test_gen_fast.c LABELS unit)
