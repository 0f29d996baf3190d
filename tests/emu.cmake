# emu.cmake - the Unicorn emulation leg (harness/emu*.c, leg_emu.c): needs Unicorn and Capstone.
if(UNICORN_FOUND AND CAPSTONE_FOUND)
  af_test(test_emu SOURCES test_emu.c LABELS unit needs-unicorn needs-capstone LIBS afharness)
endif()
