# The campaign end to end (harness/campaign.c, supervisor.c, worker.c): exit codes, summary.json,
# -j, crash isolation with a crashing JIT mutant, findings that replay.
add_test(NAME campaign COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/campaign_test.sh $<TARGET_FILE:abifuzz>)
set_tests_properties(campaign PROPERTIES LABELS "unit;cli" TIMEOUT 400)

# The runner and c-oracle legs in-process through a recording sink (c-oracle needs clang; it is
# skipped without one).
af_test(test_leg_runner SOURCES test_leg_runner.c LABELS unit LIBS afharness)

# The native-running legs share one compile per case (legs.c af_leg_compile_native).
af_test(test_leg_share SOURCES test_leg_share.c LABELS unit LIBS afharness)

# The live slot's seqlock (worker.c): a torn read is never used (a torn copy once timed a leg out).
af_test(test_live_slot SOURCES test_live_slot.c LABELS unit LIBS afharness)
