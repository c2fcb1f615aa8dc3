// `mcusplit plan`: summaries, plan files, --dump, the report, and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"

namespace mcusplit::testing {
namespace {

class CliPlan : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<ScratchDir>("cli_plan");
    mq_ = make_small_mq(*dir_, 2);
    ASSERT_FALSE(mq_.empty());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static CliResult plan(const std::string& args) {
    return run_cli("plan '" + mq_ + "' " + args, *dir_);
  }

  static std::unique_ptr<ScratchDir> dir_;
  static std::string mq_;
};

std::unique_ptr<ScratchDir> CliPlan::dir_;
std::string CliPlan::mq_;

TEST_F(CliPlan, JsonSummaryHasPerDeviceAndOverallFigures) {
  const CliResult r = plan("--devices 4xteensy41 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["devices"].size(), 5u);  // four devices and the coordinator
  int64_t max_peak = 0;
  int64_t sent = 0;
  int64_t received = 0;
  for (const auto& d : j["devices"]) {
    for (const char* key :
         {"peak_ram_bytes", "flash_bytes", "macs", "bytes_sent", "bytes_received"}) {
      EXPECT_TRUE(d.contains(key)) << key;
    }
    if (!d["coordinator"].get<bool>()) {
      max_peak = std::max(max_peak, d["peak_ram_bytes"].get<int64_t>());
      EXPECT_LE(d["peak_ram_bytes"].get<int64_t>(), d["ram_budget_bytes"].get<int64_t>());
    }
    sent += d["bytes_sent"].get<int64_t>();
    received += d["bytes_received"].get<int64_t>();
  }
  EXPECT_EQ(j["max_peak_ram_bytes"].get<int64_t>(), max_peak);
  EXPECT_EQ(j["total_bytes_transferred"].get<int64_t>(), sent);
  EXPECT_EQ(sent, received);
  EXPECT_GT(j["estimated_latency_s"].get<double>(), 0.0);
  EXPECT_EQ(j["strategy"], "auto");
  EXPECT_EQ(j["topology"], "switched");
}

// Where a slow device is better left out of a layer the plan leaves it out
// and says how many layers each device computes: on 4xteensy41,4xrp2040 the
// rp2040s (about 15 times slower at a 1x1 convolution) compute fewer layers
// than any teensy41, and the paper strategy gives every device every split
// layer.
TEST_F(CliPlan, SaysHowManyLayersEachDeviceComputes) {
  for (const char* strategy : {"auto", "paper"}) {
    const CliResult r =
        plan(std::string("--devices 4xteensy41,4xrp2040 --json --strategy ") + strategy);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    int layers = 0;
    for (const auto& [name, count] : j["layer_strategies"].items()) layers += count.get<int>();
    int fewest_teensy = layers;
    int most_rp2040 = 0;
    for (const auto& d : j["devices"]) {
      const int computed = d["layers_computed"].get<int>();
      EXPECT_LE(computed, layers);
      const std::string name = d["name"];
      if (name.rfind("teensy41", 0) == 0) fewest_teensy = std::min(fewest_teensy, computed);
      if (name.rfind("rp2040", 0) == 0) most_rp2040 = std::max(most_rp2040, computed);
    }
    if (std::string(strategy) == "auto") {
      EXPECT_LT(most_rp2040, fewest_teensy);
    } else {
      EXPECT_GT(most_rp2040, 0);
    }
  }
  const CliResult text = plan("--devices 4xteensy41,4xrp2040");
  EXPECT_NE(text.out.find("layers"), std::string::npos) << text.out;
}

TEST_F(CliPlan, PlanFileDumpsAsJsonWithTheSameHash) {
  const std::string file = dir_->file("four.plan");
  const CliResult r =
      plan("--devices 2xteensy41,2xrp2040 --topology star -o '" + file + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  const CliResult dump = run_cli("plan --dump '" + file + "'", *dir_);
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  const auto j = nlohmann::json::parse(dump.out);
  EXPECT_EQ(j["participants"].size(), 5u);
  EXPECT_EQ(j["max_peak_ram_bytes"], summary["max_peak_ram_bytes"]);
  EXPECT_EQ(j["total_bytes_transferred"], summary["total_bytes_transferred"]);
  EXPECT_NE(dump.out.find(summary["plan_hash"].get<std::string>()), std::string::npos);
}

// --max-payload: the plan's frames carry at most that many payload bytes
// (1,356 keeps a tagged frame, 1,448 bytes, in one TCP segment with
// timestamps), so more of them cross each link; out of range is bad input.
TEST_F(CliPlan, MaxPayloadSetsThePlansFramesAndIsChecked) {
  std::map<int, nlohmann::json> dumps;
  for (const int payload : {1372, 1356}) {
    const std::string file = dir_->file("payload" + std::to_string(payload) + ".plan");
    const CliResult r = plan("--devices 2xteensy41 --max-payload " + std::to_string(payload) +
                             " -o '" + file + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const CliResult dump = run_cli("plan --dump '" + file + "'", *dir_);
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    dumps[payload] = nlohmann::json::parse(dump.out);
    EXPECT_EQ(dumps[payload]["max_payload_bytes"], payload);
  }
  // The default is the protocol's.
  const std::string file = dir_->file("payload_default.plan");
  ASSERT_EQ(plan("--devices 2xteensy41 -o '" + file + "'").exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(run_cli("plan --dump '" + file + "'", *dir_).out), dumps[1372]);
  for (const char* bad : {"0", "-5", "16777217"}) {
    const CliResult r = plan(std::string("--devices 2xteensy41 --max-payload ") + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("--max-payload"), std::string::npos) << r.err;
  }
}

TEST_F(CliPlan, WritesASelfContainedHtmlReport) {
  const std::string report = dir_->file("report.html");
  const CliResult r = plan("--devices 3xteensy41 --strategy paper --report '" + report + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = read_text_file(report);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("teensy41-2"), std::string::npos);
}

TEST_F(CliPlan, BadClusterArgumentsAreBadInput) {
  for (const char* args :
       {"--devices 4xnosuchboard", "--devices 0xteensy41", "--devices 4xteensy41 --ram 0",
        "--devices 4xteensy41 --topology ring", "--devices 4xteensy41 --strategy greedy",
        "--devices 4xteensy41 --objective speed", "", "--devices 2xteensy41 --cluster x.json",
        "--cluster '/nonexistent/cluster.json'"}) {
    const CliResult r = plan(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << args << ": " << r.err;
  }
  const CliResult missing = run_cli("plan /nonexistent/model.mq --devices 2xteensy41", *dir_);
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

TEST_F(CliPlan, InfeasibleClusterExitsThreeAndLeavesAnExistingPlanAlone) {
  const std::string file = dir_->file("kept.plan");
  ASSERT_EQ(plan("--devices 2xteensy41 -o '" + file + "'").exit_code, 0);
  const std::string before = read_text_file(file);
  const CliResult r = plan("--devices 1xnrf52840 --ram 16KiB -o '" + file + "'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("device 'nrf52840-0'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("which has 16384 bytes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the smallest count of nrf52840 that fits is"), std::string::npos) << r.err;
  EXPECT_EQ(read_text_file(file), before);
}

TEST_F(CliPlan, CorruptPlanFileIsBadInput) {
  const std::string file = dir_->file("corrupt.plan");
  ASSERT_EQ(plan("--devices 2xteensy41 -o '" + file + "'").exit_code, 0);
  std::string bytes = read_text_file(file);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
  std::ofstream(file, std::ios::binary) << bytes;
  const CliResult r = run_cli("plan --dump '" + file + "'", *dir_);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

// The targets on MobileNetV2-1.0 at 224 (deterministic figures; the
// benchmark script prints them as tables, scripts/bench_plan.sh).
TEST(CliPlanMobileNetV2, TargetsAt224) {
  ScratchDir dir("cli_plan_224");
  const std::string onnx = dir.file("mnv2.onnx");
  ASSERT_EQ(run_cli("zoo mobilenetv2 -o '" + onnx + "'", dir).exit_code, 0);
  const std::string mq = dir.file("mnv2.mq");
  ASSERT_EQ(
      run_cli("quantize '" + onnx + "' --calib random --samples 2 -o '" + mq + "'", dir).exit_code,
      0);
  auto plan = [&](const std::string& args) {
    const CliResult r = run_cli("plan '" + mq + "' " + args + " --json", dir);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return nlohmann::json::parse(r.exit_code == 0 ? r.out : "{}");
  };
  const auto one = plan("--devices teensy41 --ram 16MiB");
  const auto autop = plan("--devices 8xteensy41");
  const auto paper = plan("--devices 8xteensy41 --strategy paper");
  const auto small_ram = plan("--devices 8xteensy41 --ram 256KiB");
  ASSERT_FALSE(one.empty() || autop.empty() || paper.empty() || small_ram.empty());

  // Whole RAM: the largest layer's input and output (1,505,280), its
  // depthwise kernel's scratch (2,368) and the runtime's share (11,024).
  const int64_t single_arena = 1'518'672;
  EXPECT_EQ(one["max_peak_ram_bytes"].get<int64_t>(), single_arena);
  const int64_t auto_peak = autop["max_peak_ram_bytes"].get<int64_t>();
  const int64_t paper_peak = paper["max_peak_ram_bytes"].get<int64_t>();
  EXPECT_LE(auto_peak * 2, paper_peak);
  EXPECT_LE(auto_peak * 6, single_arena);
  EXPECT_LE(autop["total_bytes_transferred"].get<int64_t>() * 5,
            paper["total_bytes_transferred"].get<int64_t>());
  EXPECT_GE(one["estimated_latency_s"].get<double>(),
            3 * autop["estimated_latency_s"].get<double>());
  EXPECT_LE(small_ram["max_peak_ram_bytes"].get<int64_t>(), 256 * 1024);
  // The figures in the README, exactly.
  EXPECT_EQ(auto_peak, 212'304);
  EXPECT_EQ(autop["total_bytes_transferred"].get<int64_t>(), 1'714'760);
  EXPECT_EQ(paper_peak, 525'328);
  EXPECT_EQ(paper["total_bytes_transferred"].get<int64_t>(), 22'273'704);

  // Heterogeneous: the balanced plan gives every device a predicted compute
  // within 20% of the busiest's; the fastest leaves the 15x slower rp2040s
  // out and is faster (README, "Planner").
  const auto fastest = plan("--devices 4xteensy41,4xrp2040");
  const auto balanced = plan("--devices 4xteensy41,4xrp2040 --strategy paper");
  double busiest = 0;
  for (const auto& d : balanced["devices"])
    busiest = std::max(busiest, d["compute_s"].get<double>());
  for (const auto& d : balanced["devices"]) {
    if (d["coordinator"].get<bool>()) continue;
    EXPECT_GE(d["compute_s"].get<double>(), 0.8 * busiest) << d["name"];
  }
  for (const auto& d : fastest["devices"]) {
    const bool rp2040 = d["name"].get<std::string>().starts_with("rp2040");
    if (!d["coordinator"].get<bool>()) {
      EXPECT_EQ(d["layers_computed"].get<int>() == 0, rp2040) << d["name"];
    }
  }
  EXPECT_LT(fastest["estimated_latency_s"].get<double>(),
            balanced["estimated_latency_s"].get<double>());
}

}  // namespace
}  // namespace mcusplit::testing
