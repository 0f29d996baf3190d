# plugin.cmake - the plugin backend kind (be_plugin.c: --backend plugin:PATH.so[:ARG]) and the
# example plugin examples/plugin/cc_plugin.c, built as libabifuzz_cc_plugin.so in the build
# directory. Needs only dlopen, so it is always built in.
list(APPEND AF_BACKEND_SRC ${CMAKE_SOURCE_DIR}/backend/be_plugin.c)
list(APPEND AF_BACKEND_LIBS ${CMAKE_DL_LIBS})
list(APPEND AF_BACKEND_DEFS AF_HAVE_BE_PLUGIN=1)

# The example is built the way a user builds theirs: the public header only, no abifuzz
# library (doc/plugins.md).
add_library(abifuzz_cc_plugin MODULE ${CMAKE_SOURCE_DIR}/examples/plugin/cc_plugin.c)
target_include_directories(abifuzz_cc_plugin PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(abifuzz_cc_plugin PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(abifuzz_cc_plugin PROPERTIES PREFIX "lib" LIBRARY_OUTPUT_DIRECTORY
                                                   ${CMAKE_BINARY_DIR})
