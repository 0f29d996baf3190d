# The mutant score (issue "harness" done-when): a campaign per JIT mutant, each must be caught
# within 60 s by a check that names it; prints the seconds and cases to the first finding.
add_test(NAME mutant_score COMMAND $<TARGET_FILE:abifuzz> mutants --time-per 60 -j 2)
set_tests_properties(mutant_score PROPERTIES LABELS "slow;cli" TIMEOUT 1800
  ENVIRONMENT "XDG_CACHE_HOME=${CMAKE_BINARY_DIR}/test-cache")
