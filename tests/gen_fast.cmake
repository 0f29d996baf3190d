# The generator's fast paths (issue 9): inline draws, cached picks, tail-only layout and the
# classifier's quirk shortcut give exactly what the plain code gives.
af_test(test_gen_fast SOURCES test_gen_fast.c LABELS unit)
