# The reproducers of real findings (corpus/findings, doc/findings.md) still show them.
add_test(NAME findings_repro
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/findings_test.sh $<TARGET_FILE:abifuzz>
  ${CMAKE_SOURCE_DIR}/corpus/findings)
set_tests_properties(findings_repro PROPERTIES LABELS "oracle;cli" TIMEOUT 300)
