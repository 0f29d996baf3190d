# The generator's fast paths (issue 9): inline draws, cached picks, tail-only layout, the
# classifier's quirk shortcut, byte-wise bit-fields and the lean case init give exactly what the
# plain code gives; so do (session 5) the divergence scan's shortcut, the scalar classes, the
# verifier's one-step check, the generator's own value types and its skipped final layout; and
# (session 6) the SysV scalar table and the quirks found on the walk against the plain
# classifier, the draw's one-division rejection test, af_classify's untouched tail, and the full
# af_verify on cases the seeded generator no longer verifies itself; and (session 7) the constant
# default weights, the per-type path/leaf flags, layout_type_gen against af_layout, and the
# signatures abi_classify_gen takes passing classify_check_sig, on generated cases; and (session
# 7, second round) classify_win64's scalar kind table against the MS rule.
af_test(test_gen_fast SOURCES test_gen_fast.c LABELS unit)
# Session 8 (GEN7): the SysV merge table against sysv_merge, the walk of scalar arrays against
# the plain copy's, the generator's own struct layout against af_layout.
af_test(test_gen_fast2 SOURCES test_gen_fast2.c LABELS unit)

# The same under ASan + UBSan, with every gen/ source compiled in (sanitized copies first at
# link time, so afgen's plain objects are never pulled in): the fast paths read and write
# without the checks the plain code had.
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-fsanitize=address,undefined")
set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=address,undefined")
check_c_source_compiles("int main(void){return 0;}" AF_GEN_FAST_HAVE_ASAN)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(AF_GEN_FAST_HAVE_ASAN)
  file(GLOB AF_GEN_FAST_SAN_SRC ${CMAKE_SOURCE_DIR}/gen/*.c)
  af_test(test_gen_fast_asan SOURCES test_gen_fast.c ${AF_GEN_FAST_SAN_SRC} LABELS "unit;asan")
  target_compile_options(test_gen_fast_asan PRIVATE -fsanitize=address,undefined
                         -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(test_gen_fast_asan PRIVATE -fsanitize=address,undefined)
endif()
