# llvm.cmake - the llvm backend kind (be_llvm*.c): the case IR lowered to LLVM IR through the
# LLVM C API and compiled by ORC's LLJIT in process. Needs llvm-19-dev (llvm-config-19); links
# the shared libLLVM-19 (--link-shared), not the static archives. Absent: the kind is not built.
find_program(AF_LLVM_CONFIG NAMES llvm-config-19)
if(AF_LLVM_CONFIG)
  execute_process(COMMAND ${AF_LLVM_CONFIG} --includedir OUTPUT_VARIABLE _af_llvm_inc
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _af_llvm_rc1)
  execute_process(COMMAND ${AF_LLVM_CONFIG} --libdir OUTPUT_VARIABLE _af_llvm_libdir
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _af_llvm_rc2)
  execute_process(COMMAND ${AF_LLVM_CONFIG} --link-shared --libs OUTPUT_VARIABLE _af_llvm_libs
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _af_llvm_rc3)
  string(REGEX REPLACE "^-l" "" _af_llvm_lib "${_af_llvm_libs}")
  find_library(AF_LIBLLVM NAMES ${_af_llvm_lib} PATHS ${_af_llvm_libdir} NO_DEFAULT_PATH)
  if(_af_llvm_rc1 EQUAL 0 AND _af_llvm_rc2 EQUAL 0 AND _af_llvm_rc3 EQUAL 0 AND AF_LIBLLVM
     AND EXISTS ${_af_llvm_inc}/llvm-c/LLJIT.h)
    list(APPEND AF_BACKEND_SRC ${CMAKE_SOURCE_DIR}/backend/be_llvm.c
         ${CMAKE_SOURCE_DIR}/backend/be_llvm_abi.c ${CMAKE_SOURCE_DIR}/backend/be_llvm_lower.c
         ${CMAKE_SOURCE_DIR}/backend/be_llvm_ops.c
         ${CMAKE_SOURCE_DIR}/backend/be_llvm_va.c)
    list(APPEND AF_BACKEND_LIBS ${AF_LIBLLVM})
    list(APPEND AF_BACKEND_INCS ${_af_llvm_inc})
    list(APPEND AF_BACKEND_DEFS AF_HAVE_BE_LLVM=1)
    set(AF_HAVE_BE_LLVM ON)
    set(AF_LLVM_INCLUDE ${_af_llvm_inc}) # for tests/backend_llvm.cmake (the IR shape checks)
  endif()
endif()
