# Writes generated/kdbench/version.h with the current git commit; run at every build
# (not only at configure time) so that a run's metadata names the commit it was built
# from. configure_file leaves the file untouched when nothing changed.
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE KDBENCH_GIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git status --porcelain --untracked-files=no
  WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE KDBENCH_DIRTY
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT KDBENCH_GIT)
  set(KDBENCH_GIT "unknown")
elseif(KDBENCH_DIRTY)
  set(KDBENCH_GIT "${KDBENCH_GIT}-dirty")
endif()
configure_file(${SOURCE_DIR}/host/base/version.h.in ${BINARY_DIR}/generated/kdbench/version.h @ONLY)
