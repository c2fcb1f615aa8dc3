#include "host/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/error.h"

namespace mcusplit::host {

namespace {

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return is_executable_file(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    if (is_executable_file(dir + "/" + name)) return dir + "/" + name;
    start = end + 1;
  }
  return "";
}

Child spawn_child(const std::string& path, std::vector<std::string> args, const ChildIo& io,
                  const std::string& what) {
  // out[1] / in[0] are the child's ends, out[0] / in[1] ours.
  int out[2] = {-1, -1};
  int in[2] = {-1, -1};
  const auto fail = [&](const std::string& why) {
    for (int* fd : {&out[0], &out[1], &in[0], &in[1]}) close_fd(*fd);
    return Error("cannot start " + what + ": " + why, kExitFailure);
  };
  if (io.output_file.empty()) {
    if (::pipe2(out, O_CLOEXEC) != 0) throw fail(std::strerror(errno));
  } else {
    out[1] = ::open(io.output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out[1] < 0) throw fail("cannot create '" + io.output_file + "': " + std::strerror(errno));
  }
  if (io.stdin_pipe && ::pipe2(in, O_CLOEXEC) != 0) throw fail(std::strerror(errno));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw fail(std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    const int null = ::open("/dev/null", O_RDWR);
    if (in[0] >= 0) {
      ::dup2(in[0], STDIN_FILENO);
    } else if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
    }
    if (io.merge_stderr) {
      ::dup2(out[1], STDERR_FILENO);
    } else if (null >= 0) {
      ::dup2(null, STDERR_FILENO);
    }
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  close_fd(out[1]);
  close_fd(in[0]);
  return Child{pid, out[0], in[1]};
}

Child spawn_child(const std::string& path, std::vector<std::string> args, bool merge_stderr,
                  const std::string& what) {
  ChildIo io;
  io.merge_stderr = merge_stderr;
  return spawn_child(path, std::move(args), io, what);
}

}  // namespace mcusplit::host
