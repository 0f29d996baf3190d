# The regression corpus: each minimised finding is still caught with its mutant, passes without.
add_test(NAME regress COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/regress_test.sh $<TARGET_FILE:abifuzz>
  ${CMAKE_SOURCE_DIR}/corpus/regress)
set_tests_properties(regress PROPERTIES LABELS "unit;cli" TIMEOUT 300)
