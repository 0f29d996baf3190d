# fuzz/fuzz.cmake - AF_FUZZ: the libFuzzer targets fuzz_case and fuzz_parse (doc/fuzzing.md).
#
# Included from the top CMakeLists.txt (include(${CMAKE_SOURCE_DIR}/fuzz/fuzz.cmake), anywhere
# after project()) or given as -DCMAKE_PROJECT_INCLUDE=<this file>. Either way the work runs at
# the end of the top directory (cmake_language(DEFER)), once every library exists.
include_guard(GLOBAL)

option(AF_FUZZ "Build the libFuzzer targets fuzz_case and fuzz_parse (needs clang)" OFF)

if(AF_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "AF_FUZZ=ON needs clang (libFuzzer): configure a fresh build directory "
                        "with CC=clang-19 (this one uses ${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER})")
  endif()
  message(STATUS "abifuzz: AF_FUZZ: libraries instrumented with -fsanitize=fuzzer-no-link")

  function(af_fuzz_setup)
    set(src ${CMAKE_SOURCE_DIR})
    # Coverage in every library, so libFuzzer sees the generator, the JIT and the probes' C.
    # The link option makes every executable of this build (abifuzz, the tests) link the
    # runtime the instrumentation calls.
    foreach(lib afgen afjit aforacle afreports afharness)
      if(TARGET ${lib})
        target_compile_options(${lib} PRIVATE $<$<COMPILE_LANGUAGE:C>:-fsanitize=fuzzer-no-link>)
        target_link_options(${lib} INTERFACE -fsanitize=fuzzer-no-link)
      endif()
    endforeach()

    # fuzz_case: bytes -> case -> the native and garbage legs in-process.
    add_executable(fuzz_case ${src}/fuzz/fuzz_case.c ${src}/fuzz/mutator.c)
    target_include_directories(fuzz_case PRIVATE ${src}/fuzz)
    target_compile_options(fuzz_case PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_case PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_case PRIVATE afharness)

    # fuzz_parse: the parser and the C emitter under ASan+UBSan. They get their own copies of
    # gen/ and oracle/ built with the sanitizers (the legs' assembly probes would not run under
    # ASan, so the shared libraries stay without it).
    set(san -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
    file(GLOB gen_src CONFIGURE_DEPENDS ${src}/gen/*.c)
    file(GLOB oracle_src CONFIGURE_DEPENDS ${src}/oracle/*.c)
    add_library(afgen_asan STATIC ${gen_src})
    target_include_directories(afgen_asan PUBLIC ${src}/gen)
    target_compile_options(afgen_asan PRIVATE ${san})
    target_link_libraries(afgen_asan PUBLIC m)
    add_library(aforacle_asan STATIC ${oracle_src})
    target_include_directories(aforacle_asan PUBLIC ${src}/oracle)
    target_compile_options(aforacle_asan PRIVATE ${san})
    target_link_libraries(aforacle_asan PUBLIC afgen_asan PkgConfig::FFI ${CMAKE_DL_LIBS}
                                               Threads::Threads)
    add_executable(fuzz_parse ${src}/fuzz/fuzz_parse.c)
    target_compile_options(fuzz_parse PRIVATE -fsanitize=fuzzer,address,undefined
                                              -fno-sanitize-recover=undefined)
    target_link_options(fuzz_parse PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz_parse PRIVATE aforacle_asan afgen_asan)
  endfunction()
  cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL af_fuzz_setup)
endif()
