#include "host/local_launcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/error.h"
#include "host/child_process.h"

namespace mcusplit::host {
namespace {

// Reads one line (without its newline) before the deadline; "" on timeout
// or end of file.
std::string read_line(int fd, Clock::time_point deadline) {
  std::string line;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, ms_until(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return "";
    char c = 0;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";
    if (c == '\n') return line;
    line += c;
    if (line.size() > 256) return "";
  }
}

}  // namespace

LocalWorkers::LocalWorkers(int count, std::chrono::milliseconds start_timeout,
                           const std::vector<std::string>& extra_args) {
  try {
    for (int i = 0; i < count; ++i) start_one(start_timeout, extra_args);
  } catch (...) {
    kill_all();
    throw;
  }
}

LocalWorkers::~LocalWorkers() {
  kill_all();
}

void LocalWorkers::start_one(std::chrono::milliseconds start_timeout,
                             const std::vector<std::string>& extra_args) {
  std::vector<std::string> args{"mcusplit", "worker", "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // Its failures reach the coordinator as Error frames; its own stderr
  // would only repeat them.
  const Child child = spawn_child("/proc/self/exe", std::move(args), false, "a worker");
  pids_.push_back(child.pid);
  const std::string line = read_line(child.output_fd, Clock::now() + start_timeout);
  ::close(child.output_fd);
  const std::string prefix = "listening ";
  if (line.rfind(prefix, 0) != 0) {
    throw Error("worker " + std::to_string(pids_.size() - 1) + " did not start", kExitFailure);
  }
  addresses_.push_back(parse_address(line.substr(prefix.size()), "worker address", false));
}

bool LocalWorkers::wait_all(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  bool clean = true;
  for (pid_t& pid : pids_) {
    while (pid > 0) {
      int status = 0;
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        clean = clean && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        pid = -1;
      } else if (r < 0 && errno != EINTR) {
        pid = -1;
      } else if (Clock::now() >= deadline) {
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    if (pid > 0) clean = false;
  }
  kill_all();
  return clean;
}

void LocalWorkers::kill_all() {
  for (pid_t& pid : pids_) {
    if (pid <= 0) continue;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
  }
}

}  // namespace mcusplit::host
