// A short soak (scripts/bench_soak.sh runs the long one): 500 Fashion-MNIST
// inferences back to back on 8 `mcusplit worker` processes started here, with
// every process's resident memory and open descriptors sampled from /proc
// while the run lasts. After warm-up no process may open more descriptors,
// and none may grow its resident memory by 1 MiB. Memory and descriptors
// only: timings on a loaded CI machine mean nothing (the latency percentiles
// --json reports are checked against its own latencies, not against a time).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cli_runner.h"
#include "process_figures.h"

extern char** environ;

namespace mcusplit::testing {
namespace {

constexpr int kWorkers = 8;
constexpr int kInferences = 500;
constexpr int64_t kMaxGrowthBytes = 1 << 20;
const std::string kImage =
    std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images/fashion_test0_ankle-boot.pgm";
// Generous: two loaded cores run nine processes and this sampler.
const std::string kTimeoutMs = "30000";

// A child process of the binary; killed and reaped on destruction if it has
// not been waited for. `stdout_fd` becomes its stdout (-1: /dev/null).
class Child {
 public:
  Child(std::vector<std::string> args, int stdout_fd) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdout_fd >= 0) {
      posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    }
    EXPECT_EQ(::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  bool exited() {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return true;
  }
  // The exit code, or -1 if it has not exited within `timeout`.
  int wait_exit(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && !exited() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pid_ > 0 ? -1 : exit_code_;
  }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// `mcusplit worker` on a free loopback port; address() is "" if it did not
// say which.
class Worker {
 public:
  Worker() {
    int out[2];
    // Close-on-exec: no other child holds the pipe open (dup2 gives this
    // one its stdout without the flag).
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    child_.emplace(std::vector<std::string>{MCUSPLIT_BINARY, "worker", "--listen", "127.0.0.1:0",
                                            "--timeout", kTimeoutMs, "--idle-timeout", "60"},
                   out[1]);
    ::close(out[1]);
    // "listening 127.0.0.1:PORT"
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    const std::string prefix = "listening ";
    if (line.rfind(prefix, 0) == 0) address_ = line.substr(prefix.size());
  }
  Child& process() { return *child_; }
  const std::string& address() const { return address_; }

 private:
  std::optional<Child> child_;
  std::string address_;
};

// One moment of the run: each process's figures (the coordinator first),
// empty for one that has exited.
using Sample = std::vector<std::optional<ProcessFigures>>;

bool all_alive(const Sample& s) {
  return std::all_of(s.begin(), s.end(), [](const auto& f) { return f.has_value(); });
}

int64_t worker_cpu_ticks(const Sample& s) {
  int64_t ticks = 0;
  for (size_t i = 1; i < s.size(); ++i) ticks += s[i]->cpu_ticks;
  return ticks;
}

// No process has fewer descriptors than at warm-up: none has closed a
// connection yet.
bool connections_open(const Sample& s, const Sample& at_warm) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i]->open_fds < at_warm[i]->open_fds) return false;
  }
  return true;
}

// The nearest-rank `percent`th percentile of latencies [begin, end) of the
// run's latency_s.
double percentile(const nlohmann::json& latency_s, size_t begin, size_t end, size_t percent) {
  std::vector<double> l;
  for (size_t i = begin; i < end; ++i) l.push_back(latency_s[i].get<double>());
  std::sort(l.begin(), l.end());
  return l[(percent * l.size() + 99) / 100 - 1];
}

// --json's latency_percentiles are those of its latency_s: all of them and
// the first and last tenth, in run order.
void expect_percentiles_of(const nlohmann::json& j) {
  const nlohmann::json& l = j["latency_s"];
  const nlohmann::json& p = j["latency_percentiles"];
  const size_t n = l.size();
  const size_t tenth = n / 10;
  const std::vector<std::tuple<const char*, size_t, size_t>> parts{
      {"all", 0, n}, {"first_tenth", 0, tenth}, {"last_tenth", n - tenth, n}};
  for (const auto& [name, begin, end] : parts) {
    EXPECT_EQ(p[name]["count"].get<size_t>(), end - begin) << name;
    EXPECT_EQ(p[name]["p50_s"].get<double>(), percentile(l, begin, end, 50)) << name;
    EXPECT_EQ(p[name]["p99_s"].get<double>(), percentile(l, begin, end, 99)) << name;
  }
}

TEST(CliSoak, FiveHundredInferencesOnEightWorkersKeepMemoryAndDescriptorsFlat) {
  ScratchDir dir("cli_soak");
  const std::string mq = dir.file("fashion.mq");
  const std::string onnx = std::string(MCUSPLIT_SOURCE_DIR) + "/models/fashion_mnist_mbv2.onnx";
  const CliResult q =
      run_cli("quantize '" + onnx + "' --calib random --samples 8 -o '" + mq + "'", dir);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const std::string plan = dir.file("fashion.plan");
  const CliResult p = run_cli(
      "plan '" + mq + "' --devices " + std::to_string(kWorkers) + "xteensy41 -o '" + plan + "'",
      dir);
  ASSERT_EQ(p.exit_code, 0) << p.err;

  std::vector<Worker> workers(kWorkers);
  std::string addresses;
  for (const Worker& w : workers) {
    ASSERT_FALSE(w.address().empty());
    addresses += (addresses.empty() ? "" : ",") + w.address();
  }
  const std::string json_file = dir.file("run.json");
  const int json_fd = ::open(json_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(json_fd, 0);
  Child run({MCUSPLIT_BINARY, "run", plan, "--input", kImage, "--mean", "0.2860", "--std", "0.3530",
             "--no-crop", "--workers", addresses, "--repeat", std::to_string(kInferences),
             "--timeout", kTimeoutMs, "--json"},
            json_fd);
  ::close(json_fd);
  std::vector<pid_t> pids{run.pid()};
  for (Worker& w : workers) pids.push_back(w.process().pid());

  std::vector<Sample> samples;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!run.exited() && std::chrono::steady_clock::now() < deadline) {
    Sample s;
    for (pid_t pid : pids) s.push_back(read_process_figures(pid));
    if (all_alive(s)) samples.push_back(std::move(s));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(run.wait_exit(std::chrono::seconds(0)), 0) << read_text_file(dir.file("run.json"));
  for (Worker& w : workers) EXPECT_EQ(w.process().wait_exit(std::chrono::seconds(30)), 0);
  const nlohmann::json j = nlohmann::json::parse(read_text_file(json_file));
  ASSERT_EQ(j["latency_s"].size(), static_cast<size_t>(kInferences));
  expect_percentiles_of(j);

  // The workers compute the same slice every inference, so their CPU time
  // tells how far the run is: warm-up ends at a tenth of it. The run is over
  // once a process closes a connection (Stop): later samples would count the
  // coordinator's report, not the inferences.
  ASSERT_FALSE(samples.empty());
  const int64_t total_ticks = worker_cpu_ticks(samples.back());
  size_t warm = 0;
  while (warm < samples.size() && worker_cpu_ticks(samples[warm]) * 10 < total_ticks) ++warm;
  ASSERT_LT(warm, samples.size());
  size_t end = warm + 1;
  while (end < samples.size() && connections_open(samples[end], samples[warm])) ++end;
  // Enough samples after warm-up for the check to mean something.
  ASSERT_GE(end - warm, 10u) << samples.size() << " samples, warm-up at " << warm << ", end at "
                             << end;
  for (size_t process = 0; process < pids.size(); ++process) {
    const std::string name = process == 0 ? "coordinator" : "worker " + std::to_string(process - 1);
    const ProcessFigures& at_warm = *samples[warm][process];
    int64_t most_rss = at_warm.rss_bytes;
    int64_t most_fds = at_warm.open_fds;
    for (size_t i = warm; i < end; ++i) {
      most_rss = std::max(most_rss, samples[i][process]->rss_bytes);
      most_fds = std::max(most_fds, samples[i][process]->open_fds);
    }
    EXPECT_EQ(most_fds, at_warm.open_fds) << name << ": descriptors grew after warm-up";
    EXPECT_LT(most_rss - at_warm.rss_bytes, kMaxGrowthBytes)
        << name << ": resident memory grew after warm-up from " << at_warm.rss_bytes << " bytes to "
        << most_rss << " (" << end - warm << " samples)";
  }
}

}  // namespace
}  // namespace mcusplit::testing
