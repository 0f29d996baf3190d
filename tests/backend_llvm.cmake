# backend_llvm.cmake - the llvm backend (be_llvm*.c: LLVM ORC) on generated and hand-written
# cases through our runner (tests/backend_testlib.h).
if(TARGET afbackend AND AF_HAVE_BE_LLVM)
  af_test(test_backend_llvm SOURCES test_backend_llvm.c LABELS unit LIBS afbackend)
  # the IR shape checks build a module with the backend's private API (be_llvm_internal.h)
  target_include_directories(test_backend_llvm PRIVATE ${CMAKE_SOURCE_DIR}/backend
                                                       ${AF_LLVM_INCLUDE})
endif()
if(TARGET afbackend AND AF_HAVE_BE_LLVM AND AF_CLANG)
  # the IR signatures against clang's for the same case's C (needs clang 19: skips otherwise)
  af_test(test_backend_llvm_shape SOURCES test_backend_llvm_shape.c LABELS oracle LIBS afbackend)
  target_include_directories(test_backend_llvm_shape PRIVATE ${CMAKE_SOURCE_DIR}/backend
                                                             ${AF_LLVM_INCLUDE})
endif()
