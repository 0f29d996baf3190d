# The libFuzzer target end to end (fuzz/, doc/fuzzing.md): a clang-19 AF_FUZZ build in
# ${CMAKE_BINARY_DIR}/fuzz-build, fuzz_case finds the XMM6-15 mutant and writes a case that
# abifuzz replays, then runs clean without a mutant. Skipped (77) without clang / libFuzzer.
# Durations: FUZZ_TEST_MUTANT_TIME, FUZZ_TEST_CLEAN_TIME (seconds, default 60 each).
add_test(NAME fuzz_case_libfuzzer
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_test.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}
                 $<TARGET_FILE:abifuzz> "${AF_CLANG}")
set_tests_properties(fuzz_case_libfuzzer PROPERTIES LABELS "slow" TIMEOUT 900
                                                    SKIP_RETURN_CODE 77)

# The fuzz input format and the structure-aware mutator (no clang needed).
af_test(test_fuzz_mutator SOURCES test_fuzz_mutator.c ../fuzz/mutator.c LABELS unit)
