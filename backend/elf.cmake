# elf.cmake - the ELF loader's build settings (elf_load.c, elf_reloc.c, runtime_syms.c), for
# whichever fragment builds the loader into afbackend (cc.cmake) and for tests/elf.cmake.
# tcc's objects call helpers from its runtime library libtcc1.a (__va_arg, __floatundidf, ...)
# that libgcc lacks: when that archive is there, runtime_syms.c names them and it is linked in.
# Its va_list.o has no .note.GNU-stack, which would make the stack executable: -z noexecstack.
if(NOT DEFINED AF_ELF_SRC)
  set(AF_ELF_SRC ${CMAKE_SOURCE_DIR}/backend/elf_load.c ${CMAKE_SOURCE_DIR}/backend/elf_reloc.c
                 ${CMAKE_SOURCE_DIR}/backend/runtime_syms.c)
  set(AF_ELF_LIBS ${CMAKE_DL_LIBS})
  set(AF_ELF_DEFS "")
  find_file(AF_LIBTCC1 libtcc1.a PATHS /usr/lib/x86_64-linux-gnu/tcc /usr/lib/tcc
            /usr/local/lib/tcc NO_DEFAULT_PATH)
  if(AF_LIBTCC1)
    list(APPEND AF_ELF_LIBS ${AF_LIBTCC1} -Wl,-z,noexecstack)
    list(APPEND AF_ELF_DEFS AF_HAVE_LIBTCC1=1)
  endif()
  list(APPEND AF_BACKEND_LIBS ${AF_ELF_LIBS})
  list(APPEND AF_BACKEND_DEFS ${AF_ELF_DEFS})
endif()
