# xi.cmake - the xi interpreter (harness/xi*.c): its API semantics against Unicorn, and every row of
# the JIT's x86 table against the hardware (test_xi_diff). `test_xi bench` prints its speed.
if(UNICORN_FOUND AND CAPSTONE_FOUND)
  af_test(test_xi SOURCES test_xi.c LABELS unit needs-unicorn needs-capstone LIBS afharness)
  af_test(test_xi_diff SOURCES test_xi_diff.c LABELS unit needs-unicorn needs-capstone
          LIBS afharness)
endif()
