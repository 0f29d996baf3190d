# backend_gccjit.cmake - the gccjit backend (backend/be_gccjit*.c): generated and hand-written
# cases compiled by libgccjit agree with the interpreter. Only when the kind is built in.
if(AF_HAVE_BE_GCCJIT)
  af_test(test_backend_gccjit SOURCES test_backend_gccjit.c LABELS oracle LIBS afbackend)
endif()
