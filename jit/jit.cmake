# jit.cmake - the afjit library (encoder, executable memory); included from the top CMakeLists.
file(GLOB AF_JIT_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/jit/*.c)
add_library(afjit STATIC ${AF_JIT_SRC})
target_include_directories(afjit PUBLIC ${CMAKE_SOURCE_DIR}/jit)
target_link_libraries(afjit PUBLIC afgen Threads::Threads) # pthread_once (x86_fast_build.c)
