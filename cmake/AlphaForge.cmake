# Helpers that give every target of the project the same shape.

set(AF_WARNINGS -Wall -Wextra -Wpedantic -Wshadow $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor> -Wno-missing-field-initializers)
if(AF_WERROR)
  list(APPEND AF_WARNINGS -Werror)
endif()

if(AF_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(AF_SANITIZE STREQUAL "thread")
  # -Wno-tsan: g++ warns that ThreadSanitizer does not model the
  # atomic_thread_fence inside Boost.Asio's scheduler; Asio's own
  # synchronisation goes through mutexes, which it does model.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
elseif(AF_SANITIZE)
  message(FATAL_ERROR "AF_SANITIZE must be empty, address or thread, not '${AF_SANITIZE}'")
endif()
if(AF_SANITIZE)
  # g++ 12 with the sanitizers sees Asio's coroutine-frame operator delete as
  # mismatched with its operator new (they are a pair; a known false positive).
  add_compile_options(-Wno-mismatched-new-delete)
endif()

# af_library(NAME SOURCES ... DEPS ...): one static library per module, af::NAME,
# built from src/NAME/. Headers are included as "NAME/file.hpp", and only through
# the module's own include root: <build>/include_roots/NAME holds one entry, NAME,
# a link to src/NAME. So a module sees the headers of itself and of the modules it
# links (DEPS, and theirs), and a file that includes a module its target does not
# link fails to compile: CMake holds the layering, not reviewers' memory.
function(af_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(af_${name} STATIC ${ARG_SOURCES})
  add_library(af::${name} ALIAS af_${name})
  set(include_root ${PROJECT_BINARY_DIR}/include_roots/${name})
  file(MAKE_DIRECTORY ${include_root})
  file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${include_root}/${name} SYMBOLIC)
  target_include_directories(af_${name} PUBLIC ${include_root})
  target_compile_options(af_${name} PRIVATE ${AF_WARNINGS})
  target_link_libraries(af_${name} PUBLIC ${ARG_DEPS})
endfunction()

# af::plugin_abi: include/alpha_forge/, the C ABI a sink plugin is written against.
add_library(af_plugin_abi INTERFACE)
add_library(af::plugin_abi ALIAS af_plugin_abi)
target_include_directories(af_plugin_abi INTERFACE ${PROJECT_SOURCE_DIR}/include)

# af_test(NAME SOURCES ... DEPS ... [LABELS ...]): one GoogleTest binary, registered with ctest.
function(af_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${AF_WARNINGS})
  if(AF_SANITIZE)
    # Instrumented, g++ 12's flow analysis reports libstdc++'s own internals
    # (std::regex, std::vector's fill) as maybe uninitialised or overflowing:
    # warnings there, errors in the optimised build.
    target_compile_options(${name} PRIVATE -Wno-error=maybe-uninitialized -Wno-error=stringop-overflow
                                           -Wno-error=array-bounds -Wno-error=stringop-overread)
  endif()
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}"
    ENVIRONMENT "AF_SOURCE_DIR=${PROJECT_SOURCE_DIR};AF_BINARY_DIR=${PROJECT_BINARY_DIR};AF_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared")
endfunction()

# af_bench(NAME SOURCES ... DEPS ...): a Google Benchmark binary (never run by ctest).
function(af_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${AF_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark Threads::Threads)
endfunction()

# af_plugin(NAME SOURCES ...): a MODULE library with hidden visibility and no undefined symbols.
function(af_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(${name} PRIVATE ${AF_WARNINGS})
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
endfunction()
