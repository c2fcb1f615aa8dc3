// Which processes a process started, and whether they still run, from
// /proc: what an orphan check needs after a coordinator is killed. The test
// process becomes a subreaper meanwhile, so that the coordinator's children,
// once orphaned, are re-parented to it and can be reaped rather than left to
// a PID 1 that may not reap.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace mcusplit::testing {

// State and parent of a process from /proc/PID/stat; state 0 if it is gone.
struct ProcessState {
  char state = 0;
  pid_t parent = 0;
};

inline ProcessState process_state(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  // The command name may hold spaces and parentheses: fields follow its
  // last closing parenthesis.
  const size_t close = text.rfind(')');
  ProcessState s;
  if (close == std::string::npos) return s;
  std::istringstream fields(text.substr(close + 1));
  fields >> s.state >> s.parent;
  return s;
}

// Live (not zombie) processes whose parent is `parent`.
inline std::vector<pid_t> child_pids(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    const ProcessState s = process_state(pid);
    if (s.parent == parent && s.state != 0 && s.state != 'Z') children.push_back(pid);
  }
  return children;
}

// Running: neither gone nor a zombie. Reaps it if it is a zombie of ours.
inline bool still_running(pid_t pid) {
  ::waitpid(pid, nullptr, WNOHANG);
  const ProcessState s = process_state(pid);
  return s.state != 0 && s.state != 'Z';
}

// Of `pids`, those still running after `timeout`.
inline std::vector<pid_t> survivors(const std::vector<pid_t>& pids,
                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<pid_t> left = pids;
  while (!left.empty()) {
    std::erase_if(left, [](pid_t p) { return !still_running(p); });
    if (left.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return left;
}

// While it lives, orphans of this process's descendants become its
// children; those left are killed and reaped when it ends.
class Subreaper {
 public:
  Subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~Subreaper() {
    for (pid_t p : adopted_) {
      if (still_running(p)) {
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
      }
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
  Subreaper(const Subreaper&) = delete;
  Subreaper& operator=(const Subreaper&) = delete;
  // Processes to kill and reap at the end should they outlive the test.
  void watch(const std::vector<pid_t>& pids) {
    adopted_.insert(adopted_.end(), pids.begin(), pids.end());
  }

 private:
  std::vector<pid_t> adopted_;
};

}  // namespace mcusplit::testing
