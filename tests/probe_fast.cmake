# probe_fast.cmake - the findings-dump driver of session 6 (helper PRB): not a test. Run
# `perf_finddump N [SEED [START [LEGS [MUTANT|all|none [divergent]]]]]` in two builds and cmp
# the outputs: a faster probe, runner or libffi leg must find exactly what the old one found.
if(TARGET afharness)
  add_executable(perf_finddump ${CMAKE_SOURCE_DIR}/bench/perf_finddump.c)
  target_link_libraries(perf_finddump PRIVATE afharness aforacle afgen)
endif()
if(TARGET afharness)
  af_test(test_probe_fast SOURCES test_probe_fast.c LABELS unit LIBS afharness)
endif()
