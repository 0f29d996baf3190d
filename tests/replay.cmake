# abifuzz replay (harness/cmd_replay.c, replay*.c): end to end on JIT mutants' findings.
add_test(NAME replay COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/replay_test.sh $<TARGET_FILE:abifuzz>)
set_tests_properties(replay PROPERTIES LABELS "unit;cli" TIMEOUT 120)

# The probes' observer (af_probe_set_observer, harness/probe.h) that replay prints from.
af_test(test_probe_observer SOURCES test_probe_observer.c LABELS unit LIBS afharness)
