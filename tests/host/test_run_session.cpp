// `mcusplit run` in process: a plan file run through host::RunSession on
// workers served by threads of this test (no subprocess), bit-exact with the
// single-device executor; the request's modes checked before anything
// starts; the mode words parsed once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/run_session.h"
#include "host/worker.h"
#include "plan/devices_shorthand.h"
#include "plan/plan_file.h"
#include "plan/planner.h"
#include "plan/random_models.h"
#include "quant/int8_executor.h"

namespace mcusplit::host {
namespace {

using std::chrono::milliseconds;

// A worker served by a thread on a loopback port the kernel picks.
class ThreadWorker {
 public:
  ThreadWorker() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    std::FILE* announce = ::fdopen(fds[1], "w");
    WorkerOptions options;
    options.idle_timeout = milliseconds(10000);
    done_ = std::async(std::launch::async, [options, announce] {
      std::string error;
      try {
        run_worker(options, announce);
      } catch (const Error& e) {
        error = e.what();
      }
      std::fclose(announce);
      return error;
    });
    std::string line;  // "listening HOST:PORT"
    char c = 0;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    address_ = parse_address(line.substr(line.find(' ') + 1), "worker", false);
  }
  const SocketAddress& address() const { return address_; }
  // What run_worker threw, "" if it served its session and returned.
  std::string finish() { return done_.get(); }

 private:
  std::future<std::string> done_;
  SocketAddress address_;
};

class RunSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    graph_ = plan::testing::random_cnn(7);
    plan_path_ = (std::filesystem::temp_directory_path() /
                  ("mcusplit_run_session_" + std::to_string(::getpid()) + ".plan"))
                     .string();
    plan::write_plan_file(plan::make_plan(graph_, plan::parse_devices_shorthand("2xteensy41"), {}),
                          graph_, plan_path_);
  }
  void TearDown() override { std::filesystem::remove(plan_path_); }

  std::vector<int8_t> random_input() const {
    std::mt19937 gen(11);
    const quant::QTensor& in = graph_.tensors[static_cast<size_t>(graph_.input)];
    std::vector<int8_t> v(static_cast<size_t>(in.bytes()));
    for (auto& x : v) x = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
    return v;
  }

  quant::QGraph graph_;
  std::string plan_path_;
};

TEST_F(RunSessionTest, RunsAPlanOnThreadWorkersBitExactWithOneDevice) {
  std::vector<ThreadWorker> workers(2);
  RunRequest request;
  request.plan_path = plan_path_;
  for (const ThreadWorker& w : workers) request.workers.push_back(w.address());
  request.topology = RunTopology::Star;
  request.repeat = 2;
  RunSession session(request);
  const std::vector<int8_t> input = random_input();
  const RunOutcome outcome = session.run(input);
  for (ThreadWorker& w : workers) EXPECT_EQ(w.finish(), "");

  EXPECT_EQ(outcome.run.output, quant::Int8Executor(graph_).run(input));
  EXPECT_TRUE(outcome.star);
  ASSERT_EQ(outcome.run.latency_s.size(), 2u);
  EXPECT_GT(outcome.latency.throughput_per_s, 0);
  EXPECT_GE(outcome.latency.median_s, std::min(outcome.run.latency_s[0], outcome.run.latency_s[1]));
  // Two devices and the coordinator, each as much memory and traffic as planned.
  ASSERT_EQ(outcome.run.participants.size(), 3u);
  for (const ParticipantReport& p : outcome.run.participants) {
    EXPECT_EQ(p.high_water_bytes, p.arena_bytes) << p.name;
    EXPECT_EQ(p.bytes_sent, p.planned_bytes_sent) << p.name;
  }
  EXPECT_EQ(session.plan().plan.device_count(), 2);
  EXPECT_EQ(outcome.run.replanned_without, "");
}

// The model is checked by its content (the .mq bytes the planner hashed),
// whatever file it was read from: the plan's own graph is accepted, a graph
// differing in one weight is refused naming both files.
TEST_F(RunSessionTest, TheModelIsThePlansByContent) {
  RunRequest r;
  r.plan_path = plan_path_;
  r.model = RunModel{"same.tflite", graph_};
  r.on_failure = OnFailure::Replan;
  EXPECT_NO_THROW(RunSession{r});
  quant::QGraph other = graph_;
  for (quant::QLayer& l : other.layers) {
    if (!l.weights.empty()) {
      l.weights[0] = static_cast<int8_t>(l.weights[0] == 1 ? 2 : 1);
      break;
    }
  }
  r.model = RunModel{"other.mq", other};
  try {
    RunSession session(r);
    ADD_FAILURE() << "a different model was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitBadInput);
    EXPECT_EQ(std::string(e.what()),
              "'other.mq' is not the model '" + plan_path_ + "' was planned for");
  }
}

// Each pair of modes that does not go together is bad input, refused before
// any device is started.
TEST_F(RunSessionTest, RefusesModesThatDoNotGoTogether) {
  const auto refusal = [&](const RunRequest& r) {
    try {
      RunSession session(r);
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kExitBadInput) << e.what();
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  RunRequest base;
  base.plan_path = plan_path_;
  EXPECT_EQ(refusal(base), "accepted");

  RunRequest r = base;
  r.targets = RunTargets::Qemu;
  r.workers = {parse_address("127.0.0.1:5", "test", false)};
  EXPECT_NE(refusal(r).find("--workers does not apply"), std::string::npos);
  r = base;
  r.delivery = ImageDelivery::Link;
  EXPECT_NE(refusal(r).find("it needs --targets qemu"), std::string::npos);
  r = base;
  r.icount = true;
  EXPECT_NE(refusal(r).find("it needs --targets qemu"), std::string::npos);
  r = base;
  r.targets = RunTargets::Qemu;
  r.topology = RunTopology::Switched;
  EXPECT_NE(refusal(r).find("star topology only"), std::string::npos);
  // Ethernet: for emulated devices only, shaping only on Ethernet, images
  // only over the link; switched is no longer refused there.
  r = base;
  r.link = RunLink::Ethernet;
  EXPECT_NE(refusal(r).find("--link says how emulated devices are linked: it needs --targets qemu"),
            std::string::npos);
  r = base;
  r.targets = RunTargets::Qemu;
  r.shaping.loss = 0.1;
  EXPECT_NE(refusal(r).find("--loss shapes the links of an emulated Ethernet: it needs --link "
                            "ethernet"),
            std::string::npos);
  r.link = RunLink::Uart;
  r.shaping = LinkShaping{};
  r.shaping.delay_ms = 5;
  EXPECT_NE(refusal(r).find("--link-delay shapes"), std::string::npos);
  r = base;
  r.targets = RunTargets::Qemu;
  r.link = RunLink::Ethernet;
  r.delivery = ImageDelivery::Loader;
  EXPECT_NE(refusal(r).find("--provision loader does not go with --link ethernet"),
            std::string::npos);
  r.delivery.reset();
  r.shaping.loss = 1.0;
  EXPECT_NE(refusal(r).find("--loss is the fraction of frames lost: at least 0 and below 1, got 1"),
            std::string::npos);
  r.shaping.loss = -0.5;
  EXPECT_NE(refusal(r).find("--loss"), std::string::npos);
  r.shaping = LinkShaping{};
  r.shaping.rate_bits_per_s = 0;
  EXPECT_NE(refusal(r).find("--link-rate must be positive"), std::string::npos);
  r.shaping = LinkShaping{};
  r.shaping.delay_ms = -1;
  EXPECT_NE(refusal(r).find("--link-delay must be at least 0 ms"), std::string::npos);
  r.shaping = LinkShaping{};
  r.shaping.rate_bits_per_s = 1'000'000;
  r.shaping.delay_ms = 0;
  r.shaping.loss = 0.0;
  r.delivery = ImageDelivery::Link;
  r.topology = RunTopology::Switched;
  EXPECT_EQ(refusal(r), "accepted");
  r = base;
  r.on_failure = OnFailure::Replan;
  EXPECT_NE(refusal(r).find("needs --model"), std::string::npos);
  r = base;
  r.repeat = 0;
  EXPECT_NE(refusal(r).find("--repeat"), std::string::npos);
  r = base;
  r.timeout = milliseconds(0);
  EXPECT_NE(refusal(r).find("--timeout"), std::string::npos);
  r = base;
  r.workers = {parse_address("127.0.0.1:5", "test", false)};
  EXPECT_NE(refusal(r).find("the plan has 2 devices but --workers lists 1"), std::string::npos);
  r = base;
  r.plan_path = plan_path_ + ".missing";
  EXPECT_NE(refusal(r).find("cannot open plan file"), std::string::npos);
}

// A frame of the plan must fit one Ethernet frame.
TEST_F(RunSessionTest, RefusesEthernetForAPlanWhoseFramesDoNotFit) {
  plan::PlanOptions options;
  options.max_payload_bytes = 4000;
  const std::string big = plan_path_ + ".big";
  plan::write_plan_file(
      plan::make_plan(graph_, plan::parse_devices_shorthand("2xteensy41"), options), graph_, big);
  RunRequest r;
  r.plan_path = big;
  r.targets = RunTargets::Qemu;
  EXPECT_NO_THROW(RunSession{r});
  r.link = RunLink::Ethernet;
  try {
    RunSession session(r);
    ADD_FAILURE() << "a plan of 4000-byte payloads was accepted for Ethernet";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitBadInput);
    EXPECT_EQ(std::string(e.what()),
              "the plan's frames carry up to 4000 payload bytes but one Ethernet frame holds "
              "1424: it cannot run with --link ethernet");
  }
  std::filesystem::remove(big);
}

TEST(RunModes, WordsParseToModesAndBack) {
  EXPECT_EQ(parse_run_targets("qemu"), RunTargets::Qemu);
  EXPECT_EQ(parse_run_topology(""), RunTopology::FromPlan);
  EXPECT_EQ(parse_run_topology("star"), RunTopology::Star);
  EXPECT_EQ(parse_image_delivery("link"), ImageDelivery::Link);
  EXPECT_EQ(parse_on_failure("replan"), OnFailure::Replan);
  EXPECT_EQ(parse_run_link("ethernet"), RunLink::Ethernet);
  for (const RunLink l : {RunLink::Uart, RunLink::Ethernet}) EXPECT_EQ(parse_run_link(name(l)), l);
  EXPECT_THROW(parse_run_link("wifi"), Error);
  for (const RunTargets t : {RunTargets::Workers, RunTargets::Qemu}) {
    EXPECT_EQ(parse_run_targets(name(t)), t);
  }
  try {
    parse_run_targets("cloud");
    ADD_FAILURE() << "accepted --targets cloud";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--targets 'cloud' is not one of: workers, qemu");
    EXPECT_EQ(e.exit_code(), kExitBadInput);
  }
}

TEST(RunModes, WorkerListsParseInOrderAndRefuseRepeats) {
  const std::vector<SocketAddress> two = parse_worker_list("127.0.0.1:5,127.0.0.1:6");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].text(), "127.0.0.1:6");
  EXPECT_TRUE(parse_worker_list("").empty());
  EXPECT_THROW(parse_worker_list("127.0.0.1:5,127.0.0.1:5"), Error);
}

}  // namespace
}  // namespace mcusplit::host
