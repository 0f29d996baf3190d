# 10,000 generated cases (and 1,000 from raw bytes) round-trip exactly through the .case text.
af_test(test_roundtrip SOURCES test_roundtrip.c LABELS "unit" ARGS 10000)
