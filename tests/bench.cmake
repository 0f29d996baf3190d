# abifuzz bench (harness/cmd_bench.c, bench_stages.c, bench_baseline.c): the command end to end
# with short stages; never asserts a speed.
# The source tree's path, so that bench's JSON can say which `git describe` it was built from.
set_source_files_properties(${CMAKE_SOURCE_DIR}/harness/cmd_bench.c TARGET_DIRECTORY afharness
  PROPERTIES COMPILE_DEFINITIONS AF_BENCH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_test(NAME bench COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_bench.sh $<TARGET_FILE:abifuzz>
  "${AF_CLANG}")
set_tests_properties(bench PROPERTIES LABELS "unit;cli" TIMEOUT 120)
