# backend_cc.cmake - the C-source backends: cc:COMMAND (be_cc.c) and tcc (be_tcc.c), run on
# generated cases through our runner (tests/backend_testlib.h).
if(TARGET afbackend)
  af_test(test_backend_tcc SOURCES test_backend_tcc.c LABELS oracle LIBS afbackend)
endif()
if(TARGET afbackend AND EXISTS ${CMAKE_SOURCE_DIR}/backend/elf_load.c)
  af_test(test_backend_cc SOURCES test_backend_cc.c LABELS oracle LIBS afbackend)
endif()
