# jitdebug.cmake - JIT debugging support (jit/debug.c): code extents and frames against the
# placed code, the gdb JIT interface's ELF image, the perf map, and gdb itself (skipped when
# gdb is missing or ptrace is not permitted). Links only afjit/afgen, not the oracle.
if(TARGET afjit)
  add_executable(test_jit_debug test_jit_debug.c)
  target_include_directories(test_jit_debug PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(test_jit_debug PRIVATE afjit afgen)
  target_compile_definitions(test_jit_debug PRIVATE AF_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_test(NAME test_jit_debug COMMAND test_jit_debug)
  set_tests_properties(test_jit_debug PROPERTIES LABELS "unit;jit" TIMEOUT 120)
endif()

# `abifuzz jit` end to end: errors, --disasm (or its one-line error without Capstone), and
# `jit --run | tail -1` == `interp | tail -1`.
if(TARGET abifuzz)
  if(CAPSTONE_FOUND)
    set(_af_cs 1)
  else()
    set(_af_cs 0)
  endif()
  add_test(NAME cli_jit COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_jit_test.sh
           $<TARGET_FILE:abifuzz> ${_af_cs} ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli_jit PROPERTIES LABELS "unit;cli;jit" TIMEOUT 120)
endif()
