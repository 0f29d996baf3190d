# The reports module (reports/) and `abifuzz report`: the JSON reader, the C signature, the
# disassembly, merging hand-made campaign directories, and every output of real mutant campaigns.
if(TARGET afreports)
  af_test(test_reports SOURCES test_reports.c LABELS unit LIBS afreports)
endif()
# A short campaign per mutant, reported alone and merged: every bucket in md/html/junit/sarif,
# junit and sarif well-formed, bad input.
add_test(NAME report COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/report_test.sh $<TARGET_FILE:abifuzz>)
set_tests_properties(report PROPERTIES LABELS "unit;cli" TIMEOUT 180)
# report.html rendered by headless Chromium: every bucket on the page. Skipped (exit 77) when
# chromium is not installed (ci/deps.sh installs it).
add_test(NAME report_chromium
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/report_test.sh $<TARGET_FILE:abifuzz> --chromium)
set_tests_properties(report_chromium PROPERTIES LABELS "unit;cli;chromium" TIMEOUT 180
                     SKIP_RETURN_CODE 77)
