# .case text format and verifier tests (see doc/case-format.md).
af_test(test_verify SOURCES test_verify.c LABELS unit)
af_test(test_text SOURCES test_text.c LABELS unit)

# The same text test with the parser and verifier compiled under ASan + UBSan: the
# parser reads hostile input. Its own copies of the sources come first at link time,
# so afgen's unsanitized objects for them are never pulled in.
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-fsanitize=address,undefined")
set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=address,undefined")
check_c_source_compiles("int main(void){return 0;}" AF_HAVE_ASAN)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(AF_HAVE_ASAN)
  file(GLOB AF_TEXT_SAN_SRC ${CMAKE_SOURCE_DIR}/gen/text_*.c ${CMAKE_SOURCE_DIR}/gen/verify*.c)
  foreach(t test_text test_verify)
    af_test(${t}_asan SOURCES ${t}.c ${AF_TEXT_SAN_SRC} LABELS "unit;asan" ARGS 30000)
    target_compile_options(${t}_asan PRIVATE -fsanitize=address,undefined
                           -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${t}_asan PRIVATE -fsanitize=address,undefined)
  endforeach()
endif()
