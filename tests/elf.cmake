# elf.cmake - tests of the ELF object loader (backend/elf_load.c), its runtime symbol table and
# the import stubs (backend/imports.c). Label oracle: it runs gcc, clang-14, clang-19 and tcc.
include(${CMAKE_SOURCE_DIR}/backend/elf.cmake)
af_test(test_elf_load SOURCES test_elf_load.c ${AF_ELF_SRC} ${CMAKE_SOURCE_DIR}/backend/imports.c
        LABELS oracle LIBS afjit ${AF_ELF_LIBS})
target_include_directories(test_elf_load PRIVATE ${CMAKE_SOURCE_DIR}/backend)
target_compile_definitions(test_elf_load PRIVATE ${AF_ELF_DEFS})
