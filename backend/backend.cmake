# backend.cmake - the afbackend library: what produces the code under test (backend/backend.h).
# Each kind has its own fragment, backend/<kind>.cmake, which finds its dependency and, when
# it is there, appends its sources, libraries and the define AF_HAVE_BE_<KIND> that puts it
# in backend.c's table. A kind whose dependency is missing is listed as not built in.
set(AF_BACKEND_SRC ${CMAKE_SOURCE_DIR}/backend/backend.c ${CMAKE_SOURCE_DIR}/backend/imports.c)
set(AF_BACKEND_LIBS "")
set(AF_BACKEND_DEFS "")
set(AF_BACKEND_INCS "")
foreach(_kind cc llvm tcc gccjit plugin)
  if(EXISTS ${CMAKE_SOURCE_DIR}/backend/${_kind}.cmake)
    include(${CMAKE_SOURCE_DIR}/backend/${_kind}.cmake)
  endif()
endforeach()
add_library(afbackend STATIC ${AF_BACKEND_SRC})
target_include_directories(afbackend PUBLIC ${CMAKE_SOURCE_DIR}/backend
                                            ${CMAKE_SOURCE_DIR}/include)
target_include_directories(afbackend PRIVATE ${AF_BACKEND_INCS})
target_compile_definitions(afbackend PRIVATE ${AF_BACKEND_DEFS})
target_link_libraries(afbackend PUBLIC afjit aforacle afgen ${AF_BACKEND_LIBS})
