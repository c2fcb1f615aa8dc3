// What the tests that boot emulated MCUs through `mcusplit run --targets
// qemu` share: the environment the runner scripts set, `mcusplit run` in the
// background, and the QEMUs (and other helpers) of a run found by their
// command lines.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_runner.h"

namespace mcusplit::testing {

inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// `mcusplit ARGS...` running in the background, its stderr in err_path.
struct Background {
  pid_t pid = -1;
  std::string err_path;
};

inline Background start_run(const std::vector<std::string>& args, const std::string& err_path) {
  Background b;
  b.err_path = err_path;
  std::vector<std::string> full{MCUSPLIT_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  b.pid = ::fork();
  if (b.pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(err, STDERR_FILENO);
    ::dup2(null, STDOUT_FILENO);
    std::vector<char*> argv;
    for (std::string& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return b;
}

// Waits up to `limit` for `run` to end: its exit status, or -1 if it had to
// be killed (or died of a signal).
inline int wait_for(const Background& run, std::chrono::milliseconds limit) {
  const auto from = std::chrono::steady_clock::now();
  int status = 0;
  pid_t r = 0;
  while ((r = ::waitpid(run.pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() - from < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (r == 0) {
    ::kill(run.pid, SIGKILL);
    ::waitpid(run.pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Processes whose command line contains both `needle` and `program` (the
// QEMUs of one test: their image or firmware paths are unique to it).
inline std::vector<pid_t> processes_with(const std::string& needle,
                                         const std::string& program = "qemu") {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text_file(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    // A zombie has an empty command line: it is gone but for its parent's wait.
    if (cmdline.find(needle) != std::string::npos && cmdline.find(program) != std::string::npos) {
      out.push_back(static_cast<pid_t>(std::stoi(name)));
    }
  }
  return out;
}

// The parent of process `pid` (-1 if it is gone).
inline pid_t parent_of(pid_t pid) {
  const std::string stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  // "pid (comm) state ppid ...".
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return -1;
  return static_cast<pid_t>(std::stoi(stat.substr(close + 4)));
}

}  // namespace mcusplit::testing
