// Starting a child program for the launchers (local workers, QEMU devices):
// fork and exec with its output on a pipe, tied to this process so that it
// never outlives it (PR_SET_PDEATHSIG), however this process ends.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mcusplit::host {

struct Child {
  pid_t pid = -1;
  int output_fd = -1;  // read end of the child's stdout (and stderr if merged); caller closes
};

// `name` as execvp would find it (a name with a slash as it is, else the
// first executable file of that name along $PATH), or "" if it would not.
std::string find_program(const std::string& name);

// Runs `path` with `args` (args[0] included) and stdin from /dev/null; its
// stderr goes to the same pipe as stdout when `merge_stderr`, else to
// /dev/null. Throws mcusplit::Error (exit code 1) "cannot start <what>: ...".
Child spawn_child(const std::string& path, std::vector<std::string> args, bool merge_stderr,
                  const std::string& what);

}  // namespace mcusplit::host
