// The mcusplit binary started in the background, its pid known (to kill it
// at a chosen moment) and its stdout and stderr kept in files. Killed and
// reaped on destruction if it has not been waited for.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"

extern char** environ;

namespace mcusplit::testing {

class CliProcess {
 public:
  // `args` follow the binary's path; stdout and stderr go to the two files
  // (created or truncated).
  CliProcess(const std::vector<std::string>& args, std::string stdout_path, std::string stderr_path)
      : stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {
    std::vector<std::string> all{MCUSPLIT_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    started_ = std::chrono::steady_clock::now();
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  ~CliProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  void kill_now() const {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }
  // The exit code (128 + the signal if one ended it), or -1 if it has not
  // exited within `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        ended_ = std::chrono::steady_clock::now();
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return exit_code_;
  }
  // Waits as wait_exit does, then what it printed; exit_code -1 if it is
  // still running.
  CliResult result(std::chrono::milliseconds timeout) {
    CliResult r;
    r.exit_code = wait_exit(timeout);
    r.out = read_text_file(stdout_path_);
    r.err = read_text_file(stderr_path_);
    return r;
  }
  // Start to exit; nullopt while it runs.
  std::optional<std::chrono::milliseconds> lifetime() const {
    if (pid_ > 0) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(ended_ - started_);
  }
  std::string out() const { return read_text_file(stdout_path_); }
  std::string err() const { return read_text_file(stderr_path_); }

 private:
  std::string stdout_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point ended_;
};

}  // namespace mcusplit::testing
