// Starting a child program for the launchers (local workers, QEMU devices,
// the switches of an emulated Ethernet): fork and exec with its output on a
// pipe or in a file, tied to this process so that it never outlives it
// (PR_SET_PDEATHSIG), however this process ends.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mcusplit::host {

struct Child {
  pid_t pid = -1;
  int output_fd = -1;  // read end of the child's stdout (and stderr if merged); caller closes
  int input_fd = -1;   // ChildIo::stdin_pipe: write end of its stdin; caller closes
};

// Where a child's standard streams go.
struct ChildIo {
  // stderr to the output too, else to /dev/null.
  bool merge_stderr = false;
  // stdin a pipe whose write end the caller keeps (Child::input_fd), for
  // programs that exit at the end of their stdin (vde_switch, wirefilter):
  // it ends when the caller closes it or dies. Else /dev/null.
  bool stdin_pipe = false;
  // Non-empty: stdout (and stderr if merged) written to this file, created
  // or truncated, instead of a pipe the caller must keep draining.
  std::string output_file;
};

// `name` as execvp would find it (a name with a slash as it is, else the
// first executable file of that name along $PATH), or "" if it would not.
std::string find_program(const std::string& name);

// Runs `path` with `args` (args[0] included). Throws mcusplit::Error (exit
// code 1) "cannot start <what>: ...".
Child spawn_child(const std::string& path, std::vector<std::string> args, const ChildIo& io,
                  const std::string& what);
// stdin from /dev/null, stdout on a pipe, stderr with it when `merge_stderr`.
Child spawn_child(const std::string& path, std::vector<std::string> args, bool merge_stderr,
                  const std::string& what);

}  // namespace mcusplit::host
