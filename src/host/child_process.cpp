#include "host/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "model/error.h"

namespace mcusplit::host {

Child spawn_child(const std::string& path, std::vector<std::string> args, bool merge_stderr,
                  const std::string& what) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    throw Error("cannot start " + what + ": " + std::strerror(errno), kExitFailure);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw Error("cannot start " + what + ": " + std::strerror(errno), kExitFailure);
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    if (merge_stderr) {
      ::dup2(out[1], STDERR_FILENO);
    } else if (null >= 0) {
      ::dup2(null, STDERR_FILENO);
    }
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  return Child{pid, out[0]};
}

}  // namespace mcusplit::host
