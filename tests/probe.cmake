# probe.cmake - the native probes (harness/probe*.c, probe.S) and the native / garbage legs.
af_test(test_probe SOURCES test_probe.c LABELS unit LIBS afharness)
