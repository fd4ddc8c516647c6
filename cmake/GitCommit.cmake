# AF_GIT_COMMIT: the commit the tree is configured from (12 hex digits), for the
# live service's af_build_info; "unknown" outside a git checkout or without git.
# HEAD and the branch it points to are configure dependencies, so a new commit or
# a checkout re-runs the configure step and the value follows the tree.
set(AF_GIT_COMMIT unknown)
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    OUTPUT_VARIABLE af_git_head OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE af_git_rc)
  if(af_git_rc EQUAL 0 AND af_git_head MATCHES "^[0-9a-f]+$")
    set(AF_GIT_COMMIT ${af_git_head})
    # A worktree keeps HEAD apart from the shared refs: ask git for both paths.
    foreach(af_git_ref HEAD "")
      if(af_git_ref STREQUAL "")
        execute_process(COMMAND ${GIT_EXECUTABLE} symbolic-ref -q HEAD WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
          OUTPUT_VARIABLE af_git_ref OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        if(af_git_ref STREQUAL "")
          continue()
        endif()
      endif()
      execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --path-format=absolute --git-path ${af_git_ref}
        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
        OUTPUT_VARIABLE af_git_path OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(EXISTS "${af_git_path}")
        set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${af_git_path}")
      endif()
    endforeach()
  endif()
endif()
