# tcc.cmake - the tcc backend kind (be_tcc.c): libtcc compiling the case's C in memory.
# Debian's libtcc-dev ships <libtcc.h> and a static libtcc.a (it needs -ldl -lm), and the
# runtime library libtcc1.a under /usr/lib/<triplet>/tcc, which tcc finds by itself.
find_path(AF_LIBTCC_INCLUDE libtcc.h)
find_library(AF_LIBTCC NAMES tcc)
if(AF_LIBTCC_INCLUDE AND AF_LIBTCC)
  list(APPEND AF_BACKEND_SRC ${CMAKE_SOURCE_DIR}/backend/be_tcc.c
       ${CMAKE_SOURCE_DIR}/backend/be_csrc.c)
  list(REMOVE_DUPLICATES AF_BACKEND_SRC)
  list(APPEND AF_BACKEND_LIBS ${AF_LIBTCC} ${CMAKE_DL_LIBS} m)
  list(APPEND AF_BACKEND_INCS ${AF_LIBTCC_INCLUDE})
  list(APPEND AF_BACKEND_DEFS AF_HAVE_BE_TCC=1)
endif()
