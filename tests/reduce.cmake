# abifuzz reduce and its reproducer directories (harness/reduce*.c, repro.c, cmd_reduce.c).
# End to end on JIT mutants' first findings (generates them with abifuzz mutants).
add_test(NAME reduce COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/reduce_test.sh $<TARGET_FILE:abifuzz>)
set_tests_properties(reduce PROPERTIES LABELS "unit;cli" TIMEOUT 300)

# Every edit on generated cases: never crashes, every kept candidate verifies.
af_test(test_reduce SOURCES test_reduce.c LABELS unit LIBS afharness)
