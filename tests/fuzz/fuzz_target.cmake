# gantry_fuzz_target(NAME SOURCES ... DEPS ... [INSTRUMENT libraries...])
#
# One fuzz entry point (a .cc defining LLVMFuzzerTestOneInput), built one of two ways:
#  - GANTRY_FUZZ=ON (clang, see tests/fuzz/run.sh and hack/fuzz): a libFuzzer binary NAME; the
#    INSTRUMENT libraries get libFuzzer's coverage instrumentation so the fuzzer sees their
#    branches.
#  - otherwise (the normal g++ build): NAME_replay, a unit-tier GoogleTest that feeds every file
#    of tests/fuzz/corpus/NAME/ through the same entry point. Seeds and every crash the fuzzer
#    ever found live there, so `make test` replays them without needing clang.
include_guard(GLOBAL)

option(GANTRY_FUZZ "Build the libFuzzer targets (needs clang++)" OFF)
if(GANTRY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GANTRY_FUZZ needs clang++ (libFuzzer); configure with CXX=clang++")
  endif()
  if(NOT GANTRY_SANITIZE)
    message(FATAL_ERROR "GANTRY_FUZZ needs -DGANTRY_SANITIZE=ON so that the code under test has "
                        "AddressSanitizer and UndefinedBehaviorSanitizer")
  endif()
endif()

function(gantry_fuzz_target name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;INSTRUMENT" ${ARGN})
  if(GANTRY_FUZZ)
    foreach(lib IN LISTS ARG_INSTRUMENT)
      target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
    endforeach()
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} gantry_warnings)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    gantry_test(${name}_replay LABEL unit SOURCES ${ARG_SOURCES} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/replay_main.cc
                DEPS ${ARG_DEPS})
    target_compile_definitions(${name}_replay PRIVATE
      GANTRY_FUZZ_CORPUS="${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name}"
      GANTRY_FUZZ_TARGET=${name})
  endif()
endfunction()
