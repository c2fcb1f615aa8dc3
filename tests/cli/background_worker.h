// A `mcusplit worker` started by a test, for `run --workers`, on a free
// loopback port; killed and reaped on destruction if it has not exited.
// What it prints goes to files of its own (removed with it), so that a test
// can read its one-line error.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli_process.h"
#include "cli_runner.h"

namespace mcusplit::testing {

class BackgroundWorker {
 public:
  explicit BackgroundWorker(const std::vector<std::string>& extra) {
    static std::atomic<int> count{0};
    const std::string stem =
        (std::filesystem::temp_directory_path() /
         ("mcusplit_worker_" + std::to_string(::getpid()) + "_" + std::to_string(count++)))
            .string();
    out_path_ = stem + ".out";
    err_path_ = stem + ".err";
    std::vector<std::string> args{"worker", "--listen", "127.0.0.1:0", "--idle-timeout", "20"};
    args.insert(args.end(), extra.begin(), extra.end());
    process_.emplace(args, out_path_, err_path_);
    // "listening 127.0.0.1:PORT\n", once it is bound.
    const std::string prefix = "listening ";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string out = read_text_file(out_path_);
      const size_t end = out.find('\n');
      if (end != std::string::npos) {
        if (out.rfind(prefix, 0) == 0) address_ = out.substr(prefix.size(), end - prefix.size());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~BackgroundWorker() {
    process_.reset();
    std::filesystem::remove(out_path_);
    std::filesystem::remove(err_path_);
  }
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  const std::string& address() const { return address_; }
  pid_t pid() const { return process_->pid(); }
  void kill_now() const { process_->kill_now(); }
  // The exit code, or -1 if it has not exited within `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) { return process_->wait_exit(timeout); }
  // What it wrote to stderr so far.
  std::string err() const { return process_->err(); }

 private:
  std::string out_path_;
  std::string err_path_;
  std::optional<CliProcess> process_;
  std::string address_;
};

}  // namespace mcusplit::testing
