# Runs at every build (cmake -P): writes version.cc from version.cc.in with the current git
# commit, and only touches the file when the commit changed, so an unchanged tree relinks nothing.
execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE GANTRY_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR GANTRY_GIT_COMMIT STREQUAL "")
  set(GANTRY_GIT_COMMIT "unknown")
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT dirty STREQUAL "")
    string(APPEND GANTRY_GIT_COMMIT "+dirty")
  endif()
endif()
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
  string(FIND "${old}" "\"${GANTRY_GIT_COMMIT}\"" found)
  if(NOT found EQUAL -1)
    return()
  endif()
endif()
string(TIMESTAMP GANTRY_BUILD_DATE "%Y-%m-%dT%H:%M:%SZ" UTC)
configure_file(${INPUT} ${OUTPUT} @ONLY)
