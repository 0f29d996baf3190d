# emu.cmake - the emulation legs (harness/emu*.c, leg_emu.c, leg_emu_cc.c) on xi and Unicorn:
# need Unicorn and Capstone; test_emu_cc also needs clang-19 (or $AF_TEST_CLANG).
if(UNICORN_FOUND AND CAPSTONE_FOUND)
  # the emu leg on xi (the default), and the same checks on Unicorn (emu-unicorn), fewer cases
  af_test(test_emu SOURCES test_emu.c LABELS unit needs-unicorn needs-capstone LIBS afharness)
  add_test(NAME test_emu_unicorn COMMAND test_emu --unicorn 500 400)
  set_tests_properties(test_emu_unicorn PROPERTIES LABELS "unit;needs-unicorn;needs-capstone"
    TIMEOUT 600)
  # the cross-check: xi and Unicorn give the same verdicts and findings (doc/emulator.md)
  af_test(test_emu_engines SOURCES test_emu_engines.c LABELS unit needs-unicorn needs-capstone
          LIBS afharness)
  # the scan's length decoder against Capstone (emu_decode.c)
  af_test(test_emu_decode SOURCES test_emu_decode.c LABELS unit needs-unicorn needs-capstone
          LIBS afharness)
  # the leg's shortcuts under xi against the ways they replaced (garbage blocks, the register
  # file, the instruction hook's opcode filter)
  af_test(test_emu_fast SOURCES test_emu_fast.c LABELS unit needs-unicorn needs-capstone
          LIBS afharness)
  af_test(test_emu_cc SOURCES test_emu_cc.c LABELS oracle needs-unicorn needs-capstone
          LIBS afharness)
endif()
