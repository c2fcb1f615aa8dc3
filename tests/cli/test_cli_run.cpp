// `mcusplit run` and `mcusplit worker`: a plan run on worker processes over
// loopback TCP matches `mcusplit infer` bit for bit and the plan's memory and
// traffic figures; refusals and bad input fail fast with one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "background_worker.h"
#include "cli_runner.h"
#include "fault_proxy.h"
#include "kernels/op_registry.h"

namespace mcusplit::testing {
namespace {

const std::string kImage =
    std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images/fashion_test0_ankle-boot.pgm";

class CliRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<ScratchDir>("cli_run");
    mq_ = make_small_mq(*dir_, 2);
    ASSERT_FALSE(mq_.empty());
    const std::string ref = dir_->file("reference.pb");
    const CliResult infer =
        run_cli("infer '" + mq_ + "' --input '" + kImage + "' --output '" + ref + "'", *dir_);
    ASSERT_EQ(infer.exit_code, 0) << infer.err;
    reference_ = read_text_file(ref);
    ASSERT_FALSE(reference_.empty());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string make_plan(const std::string& devices, const std::string& strategy) {
    const std::string file = dir_->file(devices + "_" + strategy + ".plan");
    const CliResult r = run_cli("plan '" + mq_ + "' --devices " + devices + " --strategy " +
                                    strategy + " -o '" + file + "'",
                                *dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return file;
  }

  static std::unique_ptr<ScratchDir> dir_;
  static std::string mq_;
  static std::string reference_;
};

std::unique_ptr<ScratchDir> CliRun::dir_;
std::string CliRun::mq_;
std::string CliRun::reference_;

struct RunCase {
  const char* devices;
  const char* strategy;
};

class CliRunPlans : public CliRun, public ::testing::WithParamInterface<RunCase> {};

TEST_P(CliRunPlans, MatchesInferBitForBitAndThePlansFigures) {
  const RunCase c = GetParam();
  const std::string plan = make_plan(c.devices, c.strategy);
  const std::string out = dir_->file(std::string("out_") + c.devices + c.strategy + ".pb");
  const CliResult r = run_cli(
      "run '" + plan + "' --input '" + kImage + "' --output '" + out + "' --repeat 2 --json",
      *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text_file(out), reference_);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["latency_s"].size(), 2u);
  const int devices = std::stoi(c.devices);
  ASSERT_EQ(j["devices"].size(), static_cast<size_t>(devices) + 1);
  for (const auto& d : j["devices"]) {
    const std::string name = d["name"].get<std::string>();
    EXPECT_EQ(d["high_water_bytes"], d["arena_bytes"]) << name;
    EXPECT_EQ(d["bytes_sent"], d["planned_bytes_sent"]) << name;
    EXPECT_EQ(d["bytes_received"], d["planned_bytes_received"]) << name;
    // Chunks of at most the max payload, one Credit frame per peer and step
    // it receives from; a worker adds its Result and its Stats frames (span
    // records, then the summary), the coordinator one Start per device.
    EXPECT_EQ(d["data_frames_sent"], d["planned_data_frames_sent"]) << name;
    EXPECT_EQ(d["credit_frames_sent"], d["planned_credit_frames_sent"]) << name;
    const bool coordinator = d["coordinator"].get<bool>();
    if (!coordinator) {
      EXPECT_GE(d["stats_frames_sent"].get<int64_t>(), 1) << name;
    }
    const int64_t control = coordinator ? devices : 1 + d["stats_frames_sent"].get<int64_t>();
    EXPECT_EQ(d["frames_sent"].get<int64_t>(), d["planned_data_frames_sent"].get<int64_t>() +
                                                   d["planned_credit_frames_sent"].get<int64_t>() +
                                                   control)
        << name;
  }
  EXPECT_TRUE(j["top1"].contains("index"));
}

INSTANTIATE_TEST_SUITE_P(
    Plans, CliRunPlans,
    ::testing::Values(RunCase{"2xteensy41", "auto"}, RunCase{"2xteensy41", "paper"},
                      RunCase{"4xteensy41", "auto"}, RunCase{"4xteensy41", "paper"}),
    [](const ::testing::TestParamInfo<RunCase>& param_info) {
      return std::string(param_info.param.devices).substr(0, 1) + "x" + param_info.param.strategy;
    });

// --trace: Chrome trace-event JSON with one named track per participant, a
// compute event for every layer each device computes (per inference), and
// events on one track that never overlap (its ops run one after another).
TEST_F(CliRun, WritesAChromeTraceWithOneTrackPerParticipant) {
  const std::string plan = make_plan("3xteensy41", "auto");
  const std::string trace = dir_->file("run.trace.json");
  const CliResult r = run_cli("run '" + plan + "' --input '" + kImage + "' --repeat 2 --json " +
                                  "--topology star --trace '" + trace + "'",
                              *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto run = nlohmann::json::parse(r.out);
  const auto t = nlohmann::json::parse(read_text_file(trace));
  std::map<int, std::string> tracks;
  std::map<std::pair<int, int>, std::vector<std::pair<int64_t, int64_t>>>
      spans;  // (tid, inference)
  std::map<int, int> computes;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") {
      tracks[e["tid"].get<int>()] = e["args"]["name"].get<std::string>();
    }
    if (e["ph"] != "X") continue;
    const int tid = e["tid"].get<int>();
    spans[{tid, e["args"]["inference"].get<int>()}].emplace_back(e["ts"].get<int64_t>(),
                                                                 e["dur"].get<int64_t>());
    if (e["cat"] == "compute") ++computes[tid];
  }
  ASSERT_EQ(tracks.size(), 4u);
  EXPECT_EQ(tracks[3], "coordinator");
  for (int tid = 0; tid < 3; ++tid) {
    EXPECT_EQ(tracks[tid], run["devices"][static_cast<size_t>(tid)]["name"]);
    // Twice (two inferences) the layers its --json lists as computed.
    // Each names the kernel and the work units the cost model charges it
    // (what a calibration divides by compute_s).
    int computed = 0;
    for (const auto& l : run["devices"][static_cast<size_t>(tid)]["layers"]) {
      if (l["compute_s"].get<double>() > 0) {
        ++computed;
        EXPECT_TRUE(kernels::is_kernel_name(l["kernel"].get<std::string>().c_str())) << l;
        EXPECT_GT(l["work"].get<int64_t>(), 0) << l;
      }
    }
    EXPECT_GT(computed, 0);
    EXPECT_GE(computes[tid], computed) << tid;
  }
  for (auto& [key, list] : spans) {
    std::sort(list.begin(), list.end());
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_GE(list[i].first, list[i - 1].first + list[i - 1].second)
          << "track " << key.first << " inference " << key.second;
    }
  }
}

TEST_F(CliRun, WorkerWithTooLittleRamRefusesThePlan) {
  const std::string plan = make_plan("2xteensy41", "auto");
  BackgroundWorker w0({});
  BackgroundWorker w1({"--ram", "1000"});
  ASSERT_FALSE(w0.address().empty());
  ASSERT_FALSE(w1.address().empty());
  const auto start = std::chrono::steady_clock::now();
  const CliResult r = run_cli(
      "run '" + plan + "' --input '" + kImage + "' --workers " + w0.address() + "," + w1.address(),
      *dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("device 'teensy41-1'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("refused the plan"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("has 1000 (--ram)"), std::string::npos) << r.err;
  // Both workers end promptly: the refusing one with an error, the other
  // told to stop.
  EXPECT_EQ(w1.wait_exit(std::chrono::seconds(5)), 1);
  EXPECT_EQ(w0.wait_exit(std::chrono::seconds(5)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// A worker killed mid-run: within the timeout the coordinator names it and
// the layer the run was at, stops the others and exits 1, in both topologies.
TEST_F(CliRun, WorkerDyingMidRunFailsNamingTheDeviceAndTheLayer) {
  const std::string plan = make_plan("3xteensy41", "auto");
  for (const char* topology : {"switched", "star"}) {
    BackgroundWorker w0({});
    BackgroundWorker w1({});
    BackgroundWorker w2({});
    ASSERT_FALSE(w0.address().empty());
    ASSERT_FALSE(w1.address().empty());
    ASSERT_FALSE(w2.address().empty());
    CliResult r;
    // Far more inferences than run before the kill.
    std::thread run([&] {
      r = run_cli("run '" + plan + "' --input '" + kImage + "' --repeat 1000000 --topology " +
                      topology + " --workers " + w0.address() + "," + w1.address() + "," +
                      w2.address(),
                  *dir_);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    const auto killed = std::chrono::steady_clock::now();
    w1.kill_now();
    run.join();
    EXPECT_LT(std::chrono::steady_clock::now() - killed, std::chrono::seconds(5)) << topology;
    EXPECT_EQ(r.exit_code, 1) << topology << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("device 'teensy41-1' at " + w1.address() + " stopped answering"),
              std::string::npos)
        << topology << ": " << r.err;
    EXPECT_NE(r.err.find(" of layer '"), std::string::npos) << topology << ": " << r.err;
    // The others were told to stop (or failed on the lost link) and exited.
    EXPECT_NE(w0.wait_exit(std::chrono::seconds(5)), -1) << topology;
    EXPECT_NE(w2.wait_exit(std::chrono::seconds(5)), -1) << topology;
  }
}

// --on-failure replan: the run re-plans onto the two devices left, runs
// again on the survivors (which serve a second session) and still matches
// the single-device output bit for bit.
TEST_F(CliRun, ReplansOntoTheSurvivorsAfterAWorkerDies) {
  const std::string plan = make_plan("3xteensy41", "auto");
  const std::string out = dir_->file("replanned.pb");
  BackgroundWorker w0({"--sessions", "2"});
  BackgroundWorker w1({"--sessions", "2"});
  BackgroundWorker w2({"--sessions", "2"});
  CliResult r;
  std::thread run([&] {
    r = run_cli("run '" + plan + "' --input '" + kImage + "' --repeat 400 --json --output '" + out +
                    "' --on-failure replan --model '" + mq_ + "' --workers " + w0.address() + "," +
                    w1.address() + "," + w2.address(),
                *dir_);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  w2.kill_now();
  run.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("device 'teensy41-2'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("re-planning onto the 2 devices left"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["plan_devices"], 2);
  EXPECT_EQ(j["replanned_without"], "teensy41-2");
  EXPECT_EQ(j["latency_s"].size(), 400u);
  for (const auto& d : j["devices"]) {
    EXPECT_EQ(d["high_water_bytes"], d["arena_bytes"]) << d["name"];
    EXPECT_EQ(d["bytes_received"], d["planned_bytes_received"]) << d["name"];
  }
  EXPECT_EQ(read_text_file(out), reference_);
  EXPECT_EQ(w0.wait_exit(std::chrono::seconds(5)), 0);
  EXPECT_EQ(w1.wait_exit(std::chrono::seconds(5)), 0);

  // Without the model the re-plan cannot be made: refused up front.
  const CliResult no_model =
      run_cli("run '" + plan + "' --input '" + kImage + "' --on-failure replan", *dir_);
  EXPECT_EQ(no_model.exit_code, 2) << no_model.err;
  EXPECT_NE(no_model.err.find("needs --model"), std::string::npos) << no_model.err;
}

// One flipped payload bit on the wire: the worker's decoder rejects the frame
// by its CRC, reports it, and the run fails naming the device and the cause.
TEST_F(CliRun, ACorruptedFrameIsDetectedAndReported) {
  const std::string plan = make_plan("2xteensy41", "auto");
  BackgroundWorker w0({});
  BackgroundWorker w1({});
  Fault corrupt;  // the first Data frame to the worker
  corrupt.toward = Toward::Worker;
  corrupt.type = device::MessageType::Data;
  corrupt.action = FaultAction::Corrupt;
  FaultProxy proxy(w1.address(), {corrupt});
  const CliResult r = run_cli("run '" + plan + "' --input '" + kImage + "' --workers " +
                                  w0.address() + "," + proxy.address(),
                              *dir_);
  EXPECT_TRUE(proxy.fired());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("'teensy41-1'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad frame from 'coordinator': CRC mismatch"), std::string::npos) << r.err;
  EXPECT_EQ(w1.wait_exit(std::chrono::seconds(5)), 1);
  EXPECT_NE(w0.wait_exit(std::chrono::seconds(5)), -1);
}

TEST_F(CliRun, CorruptPlanFileIsBadInput) {
  const std::string plan = make_plan("2xteensy41", "auto");
  std::string bytes = read_text_file(plan);
  for (const size_t at : {bytes.size() / 2, size_t{3}}) {
    std::string corrupt = bytes;
    corrupt[at] = static_cast<char>(corrupt[at] ^ 0x5a);
    const std::string file = dir_->file("corrupt.plan");
    {
      std::ofstream f(file, std::ios::binary);
      f << corrupt;
    }
    const CliResult r = run_cli("run '" + file + "' --input '" + kImage + "'", *dir_);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
  const CliResult missing = run_cli("run /nonexistent.plan --input '" + kImage + "'", *dir_);
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

TEST_F(CliRun, BadArgumentsAreBadInput) {
  const std::string plan = make_plan("2xteensy41", "auto");
  for (const char* args :
       {"--workers 127.0.0.1:1", "--workers 127.0.0.1:5,127.0.0.1:5",
        "--workers localhost:80,127.0.0.1:2", "--repeat 0", "--input /nonexistent.png"}) {
    const CliResult r =
        run_cli("run '" + plan + "' --input '" + kImage + "' " + std::string(args), *dir_);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << args << ": " << r.err;
  }
  const CliResult bad_listen = run_cli("worker --listen nowhere", *dir_);
  EXPECT_EQ(bad_listen.exit_code, 2) << bad_listen.err;
}

// Cluster keys (`keygen`, `--key-file`): a run whose devices share the
// coordinator's key is bit-exact; a key on one side only, or another key, is
// refused at the link's greeting (every frame is tagged), in one line naming
// the device and why, and the worker refuses too; bad key files are bad
// input.
TEST_F(CliRun, AKeyOnBothSidesRunsAndAnyMismatchIsRefusedByName) {
  const std::string plan = make_plan("2xteensy41", "auto");
  const std::string key = dir_->file("cluster.key");
  const std::string other = dir_->file("other.key");
  std::filesystem::remove(key);
  std::filesystem::remove(other);
  ASSERT_EQ(run_cli("keygen -o '" + key + "'", *dir_).exit_code, 0);
  ASSERT_EQ(run_cli("keygen -o '" + other + "'", *dir_).exit_code, 0);
  EXPECT_EQ(std::filesystem::status(key).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // Never overwritten.
  const std::string before = read_text_file(key);
  const CliResult again = run_cli("keygen -o '" + key + "'", *dir_);
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_EQ(read_text_file(key), before);

  // Workers started here get the key file too; in the star every frame
  // between devices is re-tagged by the relay.
  for (const char* topology : {"switched", "star"}) {
    const std::string out = dir_->file(std::string("keyed_") + topology + ".pb");
    const CliResult keyed =
        run_cli("run '" + plan + "' --input '" + kImage + "' --key-file '" + key + "' --topology " +
                    topology + " --output '" + out + "'",
                *dir_);
    ASSERT_EQ(keyed.exit_code, 0) << topology << ": " << keyed.err;
    EXPECT_EQ(read_text_file(out), reference_) << topology;
  }
  // A plan whose tagged frames fit one TCP segment with timestamps (1,448).
  const std::string small_frames = dir_->file("small_frames.plan");
  ASSERT_EQ(run_cli("plan '" + mq_ + "' --devices 2xteensy41 --max-payload 1356 -o '" +
                        small_frames + "'",
                    *dir_)
                .exit_code,
            0);
  const std::string small_out = dir_->file("keyed_small_frames.pb");
  const CliResult small = run_cli("run '" + small_frames + "' --input '" + kImage +
                                      "' --key-file '" + key + "' --output '" + small_out + "'",
                                  *dir_);
  ASSERT_EQ(small.exit_code, 0) << small.err;
  EXPECT_EQ(read_text_file(small_out), reference_);

  struct Case {
    std::vector<std::string> mismatched;  // the second worker's key arguments
    std::vector<std::string> matching;    // the coordinator's, and the first worker's
    const char* why;                      // as the coordinator's decoder says it
  };
  const Case cases[] = {
      {{}, {"--key-file", key}, "no authentication tag (this side has a cluster key"},
      {{"--key-file", key}, {}, "an authentication tag (this side has no cluster key"},
      {{"--key-file", other}, {"--key-file", key}, "wrong authentication tag"},
  };
  for (const Case& c : cases) {
    BackgroundWorker w0(c.matching);
    BackgroundWorker w1(c.mismatched);
    ASSERT_FALSE(w0.address().empty());
    ASSERT_FALSE(w1.address().empty());
    std::string run_key;
    for (const std::string& a : c.matching) run_key += " '" + a + "'";
    const CliResult r = run_cli("run '" + plan + "' --input '" + kImage + "' --workers " +
                                    w0.address() + "," + w1.address() + run_key,
                                *dir_);
    EXPECT_EQ(r.exit_code, 1) << c.why << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("cannot reach device 'teensy41-1' at " + w1.address() +
                         ": bad frame from 'teensy41-1': " + c.why),
              std::string::npos)
        << r.err;
    EXPECT_EQ(w1.wait_exit(std::chrono::seconds(5)), 1);
    w0.wait_exit(std::chrono::seconds(5));
  }

  // Bad key files: missing, readable by others, the wrong size.
  const std::string open_key = dir_->file("open.key");
  const std::string short_key = dir_->file("short.key");
  std::ofstream(open_key, std::ios::binary) << before;
  std::filesystem::permissions(open_key, std::filesystem::perms::owner_read |
                                             std::filesystem::perms::owner_write |
                                             std::filesystem::perms::others_read);
  std::ofstream(short_key, std::ios::binary) << before.substr(0, 31);
  std::filesystem::permissions(short_key, std::filesystem::perms::owner_read |
                                              std::filesystem::perms::owner_write);
  for (const auto& [file, why] :
       {std::pair<std::string, std::string>{dir_->file("none.key"), "cannot open key file"},
        {open_key, "others could read the cluster's key"},
        {short_key, "must hold exactly 32 bytes"}}) {
    for (const std::string& verb : {"run '" + plan + "' --input '" + kImage + "' --key-file ",
                                    std::string("worker --listen 127.0.0.1:0 --key-file ")}) {
      const CliResult r = run_cli(verb + "'" + file + "'", *dir_);
      EXPECT_EQ(r.exit_code, 2) << verb << file << ": " << r.err;
      EXPECT_EQ(count_lines(r.err), 1) << r.err;
      EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    }
  }
}

TEST_F(CliRun, UnreachableWorkerFailsNamingTheDevice) {
  const std::string plan = make_plan("2xteensy41", "auto");
  // Ports 1 and 2 on loopback: nothing listens there.
  const CliResult r = run_cli(
      "run '" + plan + "' --input '" + kImage + "' --workers 127.0.0.1:1,127.0.0.1:2", *dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("device 'teensy41-0'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mcusplit::testing
