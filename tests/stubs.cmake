# stubs.cmake - the oracle's compiled stubs, their cache and the compiler legs (cc-caller,
# cc-callee, cross-cc); needs clang (gcc too for the cross-compiler checks).
af_test(test_stubs SOURCES test_stubs.c LABELS oracle LIBS afharness)
