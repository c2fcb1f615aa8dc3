// The fault matrix (issue 15): one test per cell, each a fault injected into
// `mcusplit run` of a two-device plan on two `mcusplit worker` processes,
// each behind a FaultProxy (fault_proxy.h) that catches the moment a frame
// passes. What every failing cell expects: exit code 1, one line on stderr
// naming the device and what happened, the run over well within its bound
// (no hang past the receive timeout), every process ended (no orphan), and
// the --output folder as it was (no partial output file). README.md,
// "Fault matrix", has the table and one run's figures; each cell prints its
// row's figures ("[ matrix ]").
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "background_worker.h"
#include "cli_process.h"
#include "cli_runner.h"
#include "fault_proxy.h"
#include "process_tree.h"

namespace mcusplit::testing {
namespace {

using device::MessageType;
using std::chrono::milliseconds;

const std::string kImage =
    std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images/fashion_test0_ankle-boot.pgm";
// The receive timeout of every run and worker here: short, so that the
// cells that wait it out cost the suite little.
constexpr milliseconds kTimeout{500};
const std::string kTimeoutArg = std::to_string(kTimeout.count());
// A run still going after this has hung.
constexpr milliseconds kHang{20000};
// The plan's participants: devices 0 and 1, the coordinator 2.
constexpr int kCoordinator = 2;

milliseconds since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t);
}

// Every file of a folder and its bytes.
std::map<std::string, std::string> folder_contents(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    files[e.path().filename().string()] = read_text_file(e.path());
  }
  return files;
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// Names a cell after its case's `name`.
struct CaseName {
  template <class Case>
  std::string operator()(const ::testing::TestParamInfo<Case>& param_info) const {
    return param_info.param.name;
  }
};

// One cell's run: what the coordinator printed and how long it took.
struct CellRun {
  CliResult result;
  milliseconds took{0};
  std::string output;                         // the --output file
  std::map<std::string, std::string> before;  // its folder before the run
  std::map<std::string, std::string> after;   // and after
};

void print_row(const std::string& cell, const CellRun& c) {
  std::printf("[ matrix ] %s | exit %d | %lld ms | %s\n", cell.c_str(), c.result.exit_code,
              static_cast<long long>(c.took.count()), first_line(c.result.err).c_str());
}

class FaultMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<ScratchDir>("cli_faults");
    mq_ = make_small_mq(*dir_, 2);
    ASSERT_FALSE(mq_.empty());
    plan_ = dir_->file("two.plan");
    const CliResult plan =
        run_cli("plan '" + mq_ + "' --devices 2xteensy41 -o '" + plan_ + "'", *dir_);
    ASSERT_EQ(plan.exit_code, 0) << plan.err;
    const std::string ref = dir_->file("reference.pb");
    const CliResult infer =
        run_cli("infer '" + mq_ + "' --input '" + kImage + "' --output '" + ref + "'", *dir_);
    ASSERT_EQ(infer.exit_code, 0) << infer.err;
    reference_ = read_text_file(ref);
    ASSERT_FALSE(reference_.empty());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // Runs the plan with `extra` arguments and receive timeout `timeout`, its
  // output into a fresh folder (holding `existing` as the output file if
  // given); `pid`, if given, gets the coordinator's pid as soon as it is
  // started.
  static CellRun run_plan(const std::vector<std::string>& extra,
                          const std::optional<std::string>& existing = std::nullopt,
                          std::atomic<pid_t>* pid = nullptr, milliseconds timeout = kTimeout) {
    static int count = 0;
    const std::string folder = dir_->file("cell" + std::to_string(count++));
    std::filesystem::create_directories(folder);
    CellRun c;
    c.output = folder + "/out.pb";
    if (existing) std::ofstream(c.output, std::ios::binary) << *existing;
    c.before = folder_contents(folder);
    std::vector<std::string> args{
        "run",      plan_,    "--input",   kImage,
        "--output", c.output, "--timeout", std::to_string(timeout.count())};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto start = std::chrono::steady_clock::now();
    CliProcess run(args, dir_->file("run.out"), dir_->file("run.err"));
    if (pid != nullptr) *pid = run.pid();
    c.result = run.result(kHang);
    c.took = since(start);
    EXPECT_NE(c.result.exit_code, -1) << "the run hung";
    c.after = folder_contents(folder);
    return c;
  }

  static std::string workers(const FaultProxy& p0, const FaultProxy& p1) {
    return p0.address() + "," + p1.address();
  }

  static std::unique_ptr<ScratchDir> dir_;
  static std::string mq_;
  static std::string plan_;
  static std::string reference_;
};

std::unique_ptr<ScratchDir> FaultMatrix::dir_;
std::string FaultMatrix::mq_;
std::string FaultMatrix::plan_;
std::string FaultMatrix::reference_;

// What a failed run must show: exit code 1, one line naming the device (in
// quotes: "device 'x'" or "from 'x'") and `what`, the run over within
// `bound`, its output folder as it was.
void expect_clean_failure(const CellRun& c, const std::string& device, const std::string& what,
                          milliseconds bound) {
  EXPECT_EQ(c.result.exit_code, 1) << c.result.err;
  EXPECT_EQ(count_lines(c.result.err), 1) << c.result.err;
  EXPECT_NE(c.result.err.find("'" + device + "'"), std::string::npos) << c.result.err;
  EXPECT_NE(c.result.err.find(what), std::string::npos) << c.result.err;
  EXPECT_LT(c.took, bound) << c.result.err;
  EXPECT_EQ(c.after, c.before) << "the output folder changed";
}

// How often `what` occurs in `text`.
int occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Bounds on a failing run, start to exit. The coordinator spends up to
// about 1.2 s on its own after a failure (reading the other links for 200 ms,
// up to 500 ms for where the others stopped, up to 500 ms for a worker's
// Error); a fault that waits out a receive timeout adds it once per side.
constexpr milliseconds kGrace{2000};
constexpr milliseconds kBound = kTimeout * 2 + kGrace;

// ---------------------------------------------------------------------------
// kill -9 of each role at each phase of a run: the coordinator in the
// switched topology, the relay (the coordinator in the star topology), a
// worker in each; during provisioning, in the first inference, and while
// the coordinator collects the output.

enum class Role { Coordinator, Worker };
enum class Phase { Provisioning, Inference, Output };

struct KillCase {
  Role role;
  const char* topology;
  Phase phase;
};

std::string kill_case_name(const ::testing::TestParamInfo<KillCase>& info) {
  const KillCase& k = info.param;
  const bool star = std::string(k.topology) == "star";
  const char* role = k.role == Role::Worker ? "Worker" : star ? "Relay" : "Coordinator";
  const char* phase = k.phase == Phase::Provisioning ? "Provisioning"
                      : k.phase == Phase::Inference  ? "MidInference"
                                                     : "OutputCollection";
  return std::string(role) + (k.role == Role::Worker ? (star ? "Star" : "Switched") : "") + "_" +
         phase;
}

// The frame at which the victim dies, and the worker whose link it crosses.
// Provisioning: the 100th of a worker's 300 provisioning chunks; worker 1's
// when the coordinator dies (worker 0 then holds its image and waits for its
// peer, worker 1 holds none yet), worker 0's when a worker dies (so that
// the coordinator, which provisions them in turn and then waits for each in
// turn, meets the dead one first; worker 1 dying once its image is sent is
// WorkerKilledBeforeItIsReadyFailsTheRunAtOnce). Mid-inference: the first
// input chunk the coordinator sends worker 1. Output collection: the first
// chunk of the output that worker 0 sends the coordinator.
struct Moment {
  int worker;
  Fault fault;
};

Moment moment(Role role, Phase phase, std::function<void()> kill) {
  Fault f;
  f.action = FaultAction::Callback;
  f.callback = std::move(kill);
  switch (phase) {
    case Phase::Provisioning:
      f.toward = Toward::Worker;
      f.type = MessageType::Provision;
      f.occurrence = 100;
      return {role == Role::Coordinator ? 1 : 0, f};
    case Phase::Inference:
      f.toward = Toward::Worker;
      f.type = MessageType::Data;
      f.destination = 1;
      return {1, f};
    case Phase::Output:
      f.toward = Toward::Client;
      f.type = MessageType::Data;
      f.destination = kCoordinator;
      return {0, f};
  }
  return {1, f};
}

// gtest (and the ctest names it discovers) print a case by its name.
void PrintTo(const KillCase& k, std::ostream* os) {
  *os << kill_case_name({k, 0});
}

class KillMatrix : public FaultMatrix, public ::testing::WithParamInterface<KillCase> {};

TEST_P(KillMatrix, EndsEveryProcessWithOneLineAndNoOutput) {
  const KillCase k = GetParam();
  BackgroundWorker w0({"--timeout", kTimeoutArg});
  BackgroundWorker w1({"--timeout", kTimeoutArg});
  ASSERT_FALSE(w0.address().empty());
  ASSERT_FALSE(w1.address().empty());
  BackgroundWorker* worker[2] = {&w0, &w1};
  std::atomic<pid_t> coordinator{0};
  std::atomic<pid_t> victim{0};
  std::atomic<int64_t> killed_at{0};  // steady clock, ns
  const Moment m = moment(k.role, k.phase, [&] {
    // The coordinator's pid is stored as soon as it is started, long before
    // its first frame; a worker's is known from the start.
    pid_t pid = 0;
    while ((pid = k.role == Role::Coordinator ? coordinator.load() : victim.load()) == 0) {
      std::this_thread::yield();
    }
    killed_at = std::chrono::steady_clock::now().time_since_epoch().count();
    ::kill(pid, SIGKILL);
  });
  if (k.role == Role::Worker) victim = worker[m.worker]->pid();
  std::vector<Fault> faults[2];
  faults[m.worker].push_back(m.fault);
  FaultProxy p0(w0.address(), faults[0]);
  FaultProxy p1(w1.address(), faults[1]);
  FaultProxy* proxy[2] = {&p0, &p1};
  // An earlier output in place: it must survive.
  const CellRun c = run_plan({"--topology", k.topology, "--workers", workers(p0, p1)},
                             std::string("an earlier output"), &coordinator);
  print_row(kill_case_name({k, 0}), c);
  ASSERT_TRUE(proxy[m.worker]->fired());
  if (k.role == Role::Worker) {
    const std::string name = "teensy41-" + std::to_string(m.worker);
    // The coordinator names the dead one, with the address it was given.
    expect_clean_failure(c, name,
                         "device '" + name + "' at " + proxy[m.worker]->address() +
                             " stopped answering (its connection closed)",
                         kBound);
    // The other one was told to stop, or lost its peer: it ends too, with
    // one line if it fails.
    BackgroundWorker& other = *worker[1 - m.worker];
    const int code = other.wait_exit(kBound);
    std::printf("[ matrix ]   other worker: exit %d | %s\n", code, first_line(other.err()).c_str());
    EXPECT_NE(code, -1) << "the surviving worker did not end";
    if (code != 0) {
      EXPECT_EQ(count_lines(other.err()), 1) << other.err();
    }
  } else {
    EXPECT_EQ(c.result.exit_code, 128 + SIGKILL);
    EXPECT_EQ(c.after, c.before) << "the output folder changed";
    // Both workers notice that their coordinator is gone and end, each with
    // one line saying so, naming its device once it knows its name.
    for (int i = 0; i < 2; ++i) {
      BackgroundWorker& w = *worker[i];
      const int code = w.wait_exit(kBound);
      const auto after = std::chrono::steady_clock::now().time_since_epoch() -
                         std::chrono::steady_clock::duration(killed_at.load());
      const std::string err = w.err();
      std::printf("[ matrix ]   worker %d: exit %d after %lld ms | %s\n", i, code,
                  static_cast<long long>(std::chrono::duration_cast<milliseconds>(after).count()),
                  first_line(err).c_str());
      EXPECT_EQ(code, 1) << err;
      EXPECT_EQ(count_lines(err), 1) << err;
      const bool unprovisioned = i == 1 && k.phase == Phase::Provisioning;
      const bool names_coordinator = err.find("'coordinator'") != std::string::npos;
      // A worker not yet provisioned knows no name of its own yet.
      EXPECT_TRUE(names_coordinator) << err;
      if (unprovisioned) continue;
      EXPECT_EQ(occurrences(err, "device 'teensy41-" + std::to_string(i) + "'"), 1) << err;
    }
  }
}

std::vector<KillCase> kill_cases() {
  std::vector<KillCase> cases;
  for (Role role : {Role::Coordinator, Role::Worker}) {
    for (const char* topology : {"switched", "star"}) {
      for (Phase phase : {Phase::Provisioning, Phase::Inference, Phase::Output}) {
        cases.push_back({role, topology, phase});
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cells, KillMatrix, ::testing::ValuesIn(kill_cases()), kill_case_name);

// Worker 1 killed in the switched topology once its image is sent, as the
// coordinator's readiness Ping passes, before it has linked to worker 0:
// the run must fail at once, naming it, not once worker 0, waiting for its
// dead peer, gives up at the 10 s setup timeout.
TEST_F(FaultMatrix, WorkerKilledBeforeItIsReadyFailsTheRunAtOnce) {
  BackgroundWorker w0({"--timeout", kTimeoutArg});
  BackgroundWorker w1({"--timeout", kTimeoutArg});
  ASSERT_FALSE(w0.address().empty());
  ASSERT_FALSE(w1.address().empty());
  Fault f;
  f.toward = Toward::Worker;
  f.type = MessageType::Ping;
  f.occurrence = 2;  // the greeting's, then the readiness check's
  f.action = FaultAction::Callback;
  f.callback = [&] { w1.kill_now(); };
  FaultProxy p0(w0.address());
  FaultProxy p1(w1.address(), {f});
  const CellRun c = run_plan({"--topology", "switched", "--workers", workers(p0, p1)});
  print_row("WorkerSwitched_BeforeReady", c);
  ASSERT_TRUE(p1.fired());
  expect_clean_failure(
      c, "teensy41-1",
      "device 'teensy41-1' at " + p1.address() + " stopped answering (its connection closed)",
      kHang);
  const int code = w0.wait_exit(kHang);
  EXPECT_NE(code, -1) << "the surviving worker did not end";
  if (code != 0) {
    EXPECT_EQ(count_lines(w0.err()), 1) << w0.err();
  }
  EXPECT_LT(c.took, kBound) << "the run waited for the setup timeout";
}

// ---------------------------------------------------------------------------
// One frame on worker 1's link altered: to the worker, the first input chunk
// the coordinator sends it; to the coordinator, the worker's Result.

struct FrameCase {
  FaultAction action;
  Toward toward;
  const char* what;  // what the error line says happened
};

const char* action_name(FaultAction a) {
  switch (a) {
    case FaultAction::Corrupt:
      return "Corrupted";
    case FaultAction::Truncate:
      return "Truncated";
    case FaultAction::Duplicate:
      return "Duplicated";
    case FaultAction::Reorder:
      return "Reordered";
    case FaultAction::Delay:
      return "DelayedPastTheTimeout";
    case FaultAction::RewritePlanHash:
      return "WrongPlanHash";
    case FaultAction::Throttle:
      return "Throttled";
    case FaultAction::Callback:
      return "Callback";
  }
  return "";
}

std::string frame_case_name(const ::testing::TestParamInfo<FrameCase>& info) {
  return std::string(action_name(info.param.action)) +
         (info.param.toward == Toward::Worker ? "_ToTheWorker" : "_ToTheCoordinator");
}

void PrintTo(const FrameCase& k, std::ostream* os) {
  *os << frame_case_name({k, 0});
}

class FrameMatrix : public FaultMatrix, public ::testing::WithParamInterface<FrameCase> {};

TEST_P(FrameMatrix, FailsNamingTheDeviceAndWhatHappened) {
  const FrameCase k = GetParam();
  BackgroundWorker w0({"--timeout", kTimeoutArg});
  BackgroundWorker w1({"--timeout", kTimeoutArg});
  ASSERT_FALSE(w0.address().empty());
  ASSERT_FALSE(w1.address().empty());
  Fault f;
  f.toward = k.toward;
  f.type = k.toward == Toward::Worker ? MessageType::Data : MessageType::Result;
  f.destination = k.toward == Toward::Worker ? 1 : kCoordinator;
  f.action = k.action;
  f.delay = kTimeout * 3;
  f.plan_hash = 0x0123456789abcdefULL;
  FaultProxy p0(w0.address());
  FaultProxy p1(w1.address(), {f});
  const CellRun c = run_plan({"--workers", workers(p0, p1)});
  print_row(frame_case_name({k, 0}), c);
  EXPECT_TRUE(p1.fired());
  expect_clean_failure(c, "teensy41-1", k.what, kBound);
  if (k.toward == Toward::Client) {
    // The device whose frame went wrong leads the line, whatever the
    // coordinator's own program was doing when it broke.
    EXPECT_NE(c.result.err.find("failed: device 'teensy41-1'"), std::string::npos) << c.result.err;
  }
  // Each worker ends: the one that saw the fault with one line, the other
  // told to stop (or failing on its own timeout, with one line too).
  for (BackgroundWorker* w : {&w1, &w0}) {
    const int code = w->wait_exit(kBound);
    std::printf("[ matrix ]   worker %d: exit %d | %s\n", w == &w0 ? 0 : 1, code,
                first_line(w->err()).c_str());
    EXPECT_NE(code, -1);
    if (code != 0) {
      EXPECT_EQ(count_lines(w->err()), 1) << w->err();
    }
  }
}

std::vector<FrameCase> frame_cases() {
  const std::string timeout = std::to_string(kTimeout.count()) + " ms";
  static const std::string timed_out = "timed out after " + timeout;
  static const std::string no_result = "sent no result within " + timeout;
  const char* closed = "stopped answering (its connection closed)";
  const char* sequence = "sequence gap from ";
  return {
      {FaultAction::Corrupt, Toward::Worker, "bad frame from 'coordinator': CRC mismatch"},
      {FaultAction::Corrupt, Toward::Client, "bad frame from 'teensy41-1': CRC mismatch"},
      {FaultAction::Truncate, Toward::Worker, closed},
      {FaultAction::Truncate, Toward::Client, closed},
      {FaultAction::Duplicate, Toward::Worker, sequence},
      {FaultAction::Duplicate, Toward::Client, sequence},
      {FaultAction::Reorder, Toward::Worker, sequence},
      {FaultAction::Reorder, Toward::Client, sequence},
      {FaultAction::Delay, Toward::Worker, timed_out.c_str()},
      {FaultAction::Delay, Toward::Client, no_result.c_str()},
      {FaultAction::RewritePlanHash, Toward::Worker,
       "bad frame from 'coordinator': wrong plan hash"},
      {FaultAction::RewritePlanHash, Toward::Client,
       "bad frame from 'teensy41-1': wrong plan hash"},
  };
}

INSTANTIATE_TEST_SUITE_P(Cells, FrameMatrix, ::testing::ValuesIn(frame_cases()), frame_case_name);

// ---------------------------------------------------------------------------
// A slow peer: worker 1's link carries a few kilobytes a second each way
// from its first Start on, in the star topology (where all of its traffic
// crosses that link). The receive timeout bounds each wait for a frame, not
// a run: a peer slow enough that an inference still takes well under the
// timeout (the coordinator's own wait for the output spans a whole
// inference) is slow, not dead, and the run must succeed bit for bit however
// long it lasts; one that cannot deliver a single frame within the timeout
// fails the run cleanly, naming it. These two cells take a longer timeout,
// so that a loaded machine leaves the first its margin.

constexpr milliseconds kSlowTimeout{2000};

struct SlowCase {
  const char* name;
  int64_t bytes_per_second;
  bool succeeds;
};

void PrintTo(const SlowCase& k, std::ostream* os) {
  *os << k.name;
}

class SlowPeer : public FaultMatrix, public ::testing::WithParamInterface<SlowCase> {};

TEST_P(SlowPeer, SucceedsWithinTheTimeoutAndFailsCleanlyBeyondIt) {
  const SlowCase k = GetParam();
  const std::string timeout = std::to_string(kSlowTimeout.count());
  BackgroundWorker w0({"--timeout", timeout});
  BackgroundWorker w1({"--timeout", timeout});
  ASSERT_FALSE(w0.address().empty());
  ASSERT_FALSE(w1.address().empty());
  Fault to_worker;
  to_worker.toward = Toward::Worker;
  to_worker.type = MessageType::Start;
  to_worker.action = FaultAction::Throttle;
  to_worker.bytes_per_second = k.bytes_per_second;
  Fault from_worker = to_worker;
  from_worker.toward = Toward::Client;
  from_worker.type = MessageType::Credit;  // its first frame of an inference
  FaultProxy p0(w0.address());
  FaultProxy p1(w1.address(), {to_worker, from_worker});
  const CellRun c = run_plan({"--topology", "star", "--repeat", "4", "--workers", workers(p0, p1)},
                             std::nullopt, nullptr, kSlowTimeout);
  print_row(std::string("SlowPeer_") + k.name, c);
  EXPECT_TRUE(p1.fired(0));
  EXPECT_TRUE(p1.fired(1));
  const milliseconds bound = kSlowTimeout * 2 + kGrace;
  if (k.succeeds) {
    ASSERT_EQ(c.result.exit_code, 0) << c.result.err;
    EXPECT_EQ(read_text_file(c.output), reference_);
    // Slow indeed: the run lasts longer than the timeout.
    EXPECT_GT(c.took, kSlowTimeout);
    EXPECT_EQ(w0.wait_exit(bound), 0);
    EXPECT_EQ(w1.wait_exit(bound), 0);
    return;
  }
  expect_clean_failure(c, "teensy41-1", "timed out after " + timeout + " ms", bound);
  for (BackgroundWorker* w : {&w0, &w1}) {
    const int code = w->wait_exit(bound);
    EXPECT_NE(code, -1);
    if (code != 0) {
      EXPECT_EQ(count_lines(w->err()), 1) << w->err();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cells, SlowPeer,
                         // A full frame (1,448 bytes) in 11 ms, about 0.6 s an
                         // inference; and in 2.9 s.
                         ::testing::Values(SlowCase{"WithinTheTimeout", 128000, true},
                                           SlowCase{"BeyondTheTimeout", 500, false}),
                         CaseName());

// ---------------------------------------------------------------------------
// Cluster keys: another key, or a key on one side only. CliRun's
// AKeyOnBothSidesRunsAndAnyMismatchIsRefusedByName checks the wording of
// each refusal and the key files themselves; here each is a cell with the
// matrix's outcome.

struct KeyCase {
  const char* name;
  bool coordinator_key;
  const char* worker_key;  // worker 1's: "cluster", "other" or none
};

void PrintTo(const KeyCase& k, std::ostream* os) {
  *os << k.name;
}

class KeyMatrix : public FaultMatrix, public ::testing::WithParamInterface<KeyCase> {
 protected:
  static std::string key(const std::string& name) {
    const std::string file = dir_->file(name + ".key");
    if (!std::filesystem::exists(file)) {
      const CliResult r = run_cli("keygen -o '" + file + "'", *dir_);
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    return file;
  }
};

TEST_P(KeyMatrix, IsRefusedByTheDevice) {
  const KeyCase k = GetParam();
  const std::string cluster = key("cluster");
  std::vector<std::string> args1{"--timeout", kTimeoutArg};
  if (k.worker_key != nullptr) {
    args1.push_back("--key-file");
    args1.push_back(key(k.worker_key));
  }
  // Worker 0 always holds what the coordinator holds: worker 1 is the odd one.
  std::vector<std::string> args0{"--timeout", kTimeoutArg};
  std::vector<std::string> run{"--workers"};
  if (k.coordinator_key) args0.insert(args0.end(), {"--key-file", cluster});
  BackgroundWorker w0(args0);
  BackgroundWorker w1(args1);
  ASSERT_FALSE(w0.address().empty());
  ASSERT_FALSE(w1.address().empty());
  run.push_back(w0.address() + "," + w1.address());
  if (k.coordinator_key) run.insert(run.end(), {"--key-file", cluster});
  const CellRun c = run_plan(run);
  print_row(std::string("Key_") + k.name, c);
  expect_clean_failure(c, "teensy41-1", "authentication tag", kBound);
  const int code1 = w1.wait_exit(kBound);
  EXPECT_EQ(code1, 1);
  EXPECT_EQ(count_lines(w1.err()), 1) << w1.err();
  EXPECT_NE(w0.wait_exit(kBound), -1);
}

INSTANTIATE_TEST_SUITE_P(Cells, KeyMatrix,
                         ::testing::Values(KeyCase{"Wrong", true, "other"},
                                           KeyCase{"MissingOnTheWorker", true, nullptr},
                                           KeyCase{"MissingOnTheCoordinator", false, "cluster"}),
                         CaseName());

// ---------------------------------------------------------------------------
// kill -9 of a coordinator that started its own workers (`run` without
// --workers): they must not outlive it. Killed as soon as both exist, and
// in the middle of a long run.

struct OwnWorkersCase {
  const char* name;
  const char* topology;
  milliseconds after;  // from both workers existing to the kill
};

void PrintTo(const OwnWorkersCase& k, std::ostream* os) {
  *os << k.name;
}

class OwnWorkers : public FaultMatrix, public ::testing::WithParamInterface<OwnWorkersCase> {};

TEST_P(OwnWorkers, DieWithTheirCoordinator) {
  const OwnWorkersCase k = GetParam();
  Subreaper subreaper;
  const std::string folder = dir_->file(std::string("own_") + k.name);
  std::filesystem::create_directories(folder);
  CliProcess run({"run", plan_, "--input", kImage, "--output", folder + "/out.pb", "--timeout",
                  kTimeoutArg, "--topology", k.topology, "--repeat", "1000000"},
                 dir_->file("own.out"), dir_->file("own.err"));
  std::vector<pid_t> children;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (children.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    children = child_pids(run.pid());
  }
  subreaper.watch(children);
  ASSERT_EQ(children.size(), 2u) << "the coordinator did not start its two workers";
  std::this_thread::sleep_for(k.after);
  run.kill_now();
  const auto killed = std::chrono::steady_clock::now();
  EXPECT_EQ(run.wait_exit(kBound), 128 + SIGKILL);
  const std::vector<pid_t> left = survivors(children, kBound);
  std::printf(
      "[ matrix ] OwnWorkers_%s | coordinator killed | workers gone after %lld ms | %zu "
      "left\n",
      k.name, static_cast<long long>(since(killed).count()), left.size());
  EXPECT_TRUE(left.empty()) << left.size() << " of its workers outlived the coordinator";
  EXPECT_TRUE(std::filesystem::is_empty(folder)) << "a partial output file";
}

INSTANTIATE_TEST_SUITE_P(
    Cells, OwnWorkers,
    ::testing::Values(OwnWorkersCase{"AtStartSwitched", "switched", milliseconds(0)},
                      OwnWorkersCase{"MidRunSwitched", "switched", milliseconds(500)},
                      OwnWorkersCase{"MidRunStar", "star", milliseconds(500)}),
    CaseName());

// ---------------------------------------------------------------------------
// The output file's file system full: a 64 KiB tmpfs made here, filled, an
// earlier output on it. The run itself succeeds; writing its output fails
// with one line naming the file and why, and the earlier output is left as
// it was, with no temporary file beside it. Needs root (mount).

class FullDisk : public FaultMatrix {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    mount_ = dir_->file("full");
    std::filesystem::create_directories(mount_);
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) {
      EXPECT_EQ(::umount(mount_.c_str()), 0) << std::strerror(errno);
    }
  }

  std::string mount_;
  bool mounted_ = false;
};

TEST_F(FullDisk, FailsNamingTheFileAndKeepsTheEarlierOutput) {
  const std::string out = mount_ + "/out.pb";
  std::ofstream(out, std::ios::binary) << "an earlier output";
  {
    // Fill it: page by page until a write fails.
    std::ofstream fill(mount_ + "/fill", std::ios::binary);
    const std::string page(4096, 'x');
    while (fill.write(page.data(), static_cast<std::streamsize>(page.size())) && fill.flush()) {
    }
  }
  const auto before = folder_contents(mount_);
  const auto start = std::chrono::steady_clock::now();
  CliProcess run({"run", plan_, "--input", kImage, "--output", out, "--timeout", kTimeoutArg},
                 dir_->file("full.out"), dir_->file("full.err"));
  const CliResult r = run.result(kHang);
  CellRun c;
  c.result = r;
  c.took = since(start);
  print_row("FullDisk", c);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("cannot write '" + out + "': No space left on device"), std::string::npos)
      << r.err;
  EXPECT_EQ(folder_contents(mount_), before) << "the output or a temporary file was written";
}

}  // namespace
}  // namespace mcusplit::testing
