# The seeded generator, its RNG and its weights table.
af_test(test_gen SOURCES test_gen.c LABELS "unit")
