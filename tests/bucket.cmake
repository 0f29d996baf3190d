# Triage inside the campaign (harness/bucket.c, findings_out.c): bucket shapes and keys of
# hand-made findings, the known-divergence rules, the consensus, and a mutant campaign that gives
# few buckets, whose findings carry their consensus and whose known findings do not fail it.
af_test(test_bucket SOURCES test_bucket.c LABELS unit LIBS afharness)

# Known divergences for real: clang 14 under the compiler legs on divergent constructs; every
# finding is labelled by corpus/known-divergences.rules and the campaign exits 0 (needs clang-14).
add_test(NAME known_divergences
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/known_test.sh $<TARGET_FILE:abifuzz>)
set_tests_properties(known_divergences PROPERTIES LABELS "oracle;cli" TIMEOUT 300)
# the crash handler's module lookup (harness/worker.c camp_crash_where)
af_test(test_crash_where SOURCES test_crash_where.c LABELS unit LIBS afharness)
