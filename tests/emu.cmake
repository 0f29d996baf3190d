# emu.cmake - the Unicorn emulation leg (harness/emu*.c, leg_emu.c, leg_emu_cc.c): needs Unicorn
# and Capstone; test_emu_cc also needs clang-19 (or $AF_TEST_CLANG).
if(UNICORN_FOUND AND CAPSTONE_FOUND)
  af_test(test_emu SOURCES test_emu.c LABELS unit needs-unicorn needs-capstone LIBS afharness)
  # the scan's length decoder against Capstone (emu_decode.c)
  af_test(test_emu_decode SOURCES test_emu_decode.c LABELS unit needs-unicorn needs-capstone
          LIBS afharness)
  af_test(test_emu_cc SOURCES test_emu_cc.c LABELS oracle needs-unicorn needs-capstone
          LIBS afharness)
endif()
