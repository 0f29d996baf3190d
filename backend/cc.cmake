# cc.cmake - the cc:COMMAND backend kind (be_cc.c) and what it shares with the tcc kind
# (be_csrc.c: the case's C, the compilers' skip rules). It builds the ELF loader into
# afbackend (elf.cmake: elf_load.c, elf_reloc.c, runtime_syms.c, libtcc1.a when present).
if(EXISTS ${CMAKE_SOURCE_DIR}/backend/elf_load.c)
  include(${CMAKE_SOURCE_DIR}/backend/elf.cmake)
  list(APPEND AF_BACKEND_SRC ${CMAKE_SOURCE_DIR}/backend/be_cc.c
       ${CMAKE_SOURCE_DIR}/backend/be_csrc.c ${AF_ELF_SRC})
  list(REMOVE_DUPLICATES AF_BACKEND_SRC)
  list(APPEND AF_BACKEND_DEFS AF_HAVE_BE_CC=1)
endif()
