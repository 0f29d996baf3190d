# gccjit.cmake - the gccjit backend kind (be_gccjit*.c): each case's non-host functions built
# with the libgccjit API and compiled in memory by gcc's own pipeline. Needs libgccjit from
# gcc 12 or later (Debian's libgccjit-12-dev puts <libgccjit.h> and libgccjit.so under
# /usr/lib/gcc/<triplet>/<version>/). Absent or too old: the kind is not built.
include(CheckCSourceCompiles)
file(GLOB _af_gccjit_dirs /usr/lib/gcc/x86_64-linux-gnu/*)
set(_af_gccjit_inc_hints "")
foreach(_d ${_af_gccjit_dirs})
  list(APPEND _af_gccjit_inc_hints ${_d}/include)
endforeach()
find_path(AF_LIBGCCJIT_INCLUDE libgccjit.h HINTS ${_af_gccjit_inc_hints})
find_library(AF_LIBGCCJIT NAMES gccjit HINTS ${_af_gccjit_dirs})
if(AF_LIBGCCJIT_INCLUDE AND AF_LIBGCCJIT)
  # what be_gccjit_internal.h requires (libgccjit ABI 21 and the features before it)
  set(CMAKE_REQUIRED_INCLUDES ${AF_LIBGCCJIT_INCLUDE})
  check_c_source_compiles("
#include <libgccjit.h>
#if !defined(LIBGCCJIT_HAVE_SIZED_INTEGERS) || !defined(LIBGCCJIT_HAVE_ASM_STATEMENTS)
#error too old
#endif
#if !defined(LIBGCCJIT_HAVE_gcc_jit_context_new_bitcast)
#error too old
#endif
#if !defined(LIBGCCJIT_HAVE_gcc_jit_global_set_initializer)
#error too old
#endif
int main(void) { return 0; }" AF_LIBGCCJIT_RECENT)
  unset(CMAKE_REQUIRED_INCLUDES)
endif()
if(AF_LIBGCCJIT_INCLUDE AND AF_LIBGCCJIT AND AF_LIBGCCJIT_RECENT)
  list(APPEND AF_BACKEND_SRC ${CMAKE_SOURCE_DIR}/backend/be_gccjit.c
       ${CMAKE_SOURCE_DIR}/backend/be_gccjit_types.c ${CMAKE_SOURCE_DIR}/backend/be_gccjit_lower.c
       ${CMAKE_SOURCE_DIR}/backend/be_gccjit_rt.c)
  list(APPEND AF_BACKEND_LIBS ${AF_LIBGCCJIT})
  list(APPEND AF_BACKEND_INCS ${AF_LIBGCCJIT_INCLUDE})
  list(APPEND AF_BACKEND_DEFS AF_HAVE_BE_GCCJIT=1)
  set(AF_HAVE_BE_GCCJIT ON)
  message(STATUS "abifuzz: libgccjit: ${AF_LIBGCCJIT}: backend gccjit on")
else()
  message(STATUS "abifuzz: libgccjit (gcc >= 12) not found: backend gccjit off "
                 "(apt-get install libgccjit-12-dev)")
endif()
