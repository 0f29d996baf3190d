# The command line, end to end (exit codes, one-line errors, gen -> interp -> emit).
add_test(NAME cli COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.sh $<TARGET_FILE:abifuzz> "${AF_CLANG}")
set_tests_properties(cli PROPERTIES LABELS "unit;cli" TIMEOUT 300)
