# backend_plugin.cmake - the plugin backend kind (backend/be_plugin.c) with the example plugin
# (examples/plugin/cc_plugin.c, compiles with cc: label oracle) and with mock plugins built from
# backend_plugin_mock.c that misbehave on purpose (a wrong API version, no symbols, skips,
# errors, no code).
function(af_mock_plugin name)
  add_library(${name} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/backend_plugin_mock.c)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/include)
  target_compile_definitions(${name} PRIVATE ${ARGN})
  set_target_properties(${name} PROPERTIES PREFIX "lib" LIBRARY_OUTPUT_DIRECTORY
                                           ${CMAKE_BINARY_DIR}/tests)
endfunction()
af_mock_plugin(abifuzz_mock_plugin)
af_mock_plugin(abifuzz_mock_badver MOCK_VERSION=99)
af_mock_plugin(abifuzz_mock_nosyms MOCK_NO_SYMBOLS=1)

af_test(test_backend_plugin SOURCES test_backend_plugin.c LABELS oracle LIBS afbackend)
add_dependencies(test_backend_plugin abifuzz_cc_plugin abifuzz_mock_plugin abifuzz_mock_badver
                 abifuzz_mock_nosyms)
target_compile_definitions(test_backend_plugin PRIVATE
  AF_CC_PLUGIN="$<TARGET_FILE:abifuzz_cc_plugin>"
  AF_MOCK_PLUGIN="$<TARGET_FILE:abifuzz_mock_plugin>"
  AF_MOCK_BADVER="$<TARGET_FILE:abifuzz_mock_badver>"
  AF_MOCK_NOSYMS="$<TARGET_FILE:abifuzz_mock_nosyms>")
