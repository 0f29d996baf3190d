# The seeded generator, its RNG and its weights table.
af_test(test_gen SOURCES test_gen.c LABELS "unit")
# The seed corpus covers every generator axis, and its generated cases replay from their headers.
af_test(test_seeds SOURCES test_seeds.c LABELS unit)
