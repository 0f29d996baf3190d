# perf.cmake - the per-case benchmark driver (bench/perf_pipeline.c, issue 9) and a short run
# of it as a test: every generated case must pass native, ffi-caller, ffi-callee and runner.
if(TARGET afharness)
  af_test(perf_pipeline SOURCES ../bench/perf_pipeline.c LABELS unit LIBS afharness
          ARGS 300 native,garbage,ffi-caller,ffi-callee,runner 7)
endif()
if(TARGET afjit)
  af_test(test_x86_match SOURCES test_x86_match.c LABELS unit jit LIBS afjit)
endif()
# not a test: `perf_codedump N SEED > a.txt` in two builds, then diff (doc/benchmarks.md)
if(TARGET afjit AND CAPSTONE_FOUND)
  add_executable(perf_codedump ${CMAKE_SOURCE_DIR}/bench/perf_codedump.c)
  target_link_libraries(perf_codedump PRIVATE afjit afgen PkgConfig::CAPSTONE)
endif()
if(UNICORN_FOUND AND CAPSTONE_FOUND AND TARGET afharness)
  af_test(test_emu_deadline SOURCES test_emu_deadline.c LABELS unit needs-unicorn needs-capstone
          LIBS afharness)
  add_test(NAME test_emu_deadline_unicorn COMMAND test_emu_deadline --unicorn)
  set_tests_properties(test_emu_deadline_unicorn PROPERTIES
    LABELS "unit;needs-unicorn;needs-capstone" TIMEOUT 600)
endif()
