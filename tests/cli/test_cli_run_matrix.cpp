// `mcusplit run` over loopback TCP across cluster shapes, strategies and both
// topologies: the output is bit-exact with `mcusplit infer` on one device,
// and every participant's measured arena high water, bytes, Data frames and
// Credit frames equal the plan's. In the star topology the coordinator relays
// exactly the Data and Credit frames the devices address to each other,
// derived here independently from the plan's ops (`plan --dump`); in the
// switched topology it relays nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace mcusplit::testing {
namespace {

using nlohmann::json;

const std::string kImages = std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images/";
const std::string kImage = kImages + "fashion_test0_ankle-boot.pgm";
const std::string kFashionArgs = " --mean 0.2860 --std 0.3530 --no-crop";
// Generous: ctest runs these next to other tests on 2 cores, and up to 9
// processes of one run share them.
const std::string kTimeoutMs = "10000";

// Frame layout (docs/protocol.md): a 72-byte header and a 4-byte payload CRC
// around every payload; a Credit frame's payload is one u32.
constexpr int64_t kFrameOverhead = 76;
constexpr int64_t kCreditFrameBytes = kFrameOverhead + 4;

int64_t box_volume(const json& box) {
  int64_t v = 1;
  for (const char* axis : {"c", "y", "x"}) {
    v *= std::max<int64_t>(0, box[axis][1].get<int64_t>() - box[axis][0].get<int64_t>());
  }
  return v;
}

// What the coordinator of a star relays in one inference: every frame one
// device addresses to another. Data: each Send op's box in chunks of at most
// the max payload (one frame for an empty box). Credit: on entering each run
// of same-step ops a device grants credit once to every peer it receives
// from in that run. Frames to or from the coordinator itself are not relayed.
struct Relay {
  int64_t frames = 0;
  int64_t bytes = 0;  // whole frames, as the relay counts them
};

Relay expected_relay(const json& dump) {
  const int64_t max_payload = dump["max_payload_bytes"].get<int64_t>();
  int coordinator = -1;
  for (const json& p : dump["participants"]) {
    if (p["coordinator"].get<bool>()) coordinator = p["index"].get<int>();
  }
  EXPECT_GE(coordinator, 0);
  Relay r;
  for (const json& p : dump["participants"]) {
    if (p["coordinator"].get<bool>()) continue;
    const json& ops = p["ops"];
    for (const json& op : ops) {
      if (op["kind"] != "send" || op["peer"].get<int>() == coordinator) continue;
      const int64_t bytes = box_volume(op["box"]);
      const int64_t frames = std::max<int64_t>(1, (bytes + max_payload - 1) / max_payload);
      r.frames += frames;
      r.bytes += bytes + frames * kFrameOverhead;
    }
    for (size_t first = 0; first < ops.size();) {
      std::vector<int> peers;
      size_t end = first;
      for (; end < ops.size() && ops[end]["step"] == ops[first]["step"]; ++end) {
        const int peer = ops[end]["peer"].get<int>();
        if (ops[end]["kind"] == "receive" && peer != coordinator &&
            std::find(peers.begin(), peers.end(), peer) == peers.end()) {
          peers.push_back(peer);
        }
      }
      r.frames += static_cast<int64_t>(peers.size());
      r.bytes += static_cast<int64_t>(peers.size()) * kCreditFrameBytes;
      first = end;
    }
  }
  return r;
}

// Devices (not the coordinator) with any op in the plan.
int active_devices(const json& dump) {
  int n = 0;
  for (const json& p : dump["participants"]) {
    if (!p["coordinator"].get<bool>() && !p["ops"].empty()) ++n;
  }
  return n;
}

// Checks one `run --json` against the plan's figures; `devices` is the
// plan's device count.
void expect_figures_match_plan(const json& j, const json& dump, bool star, int devices,
                               const std::string& label) {
  ASSERT_EQ(j["devices"].size(), static_cast<size_t>(devices) + 1) << label;
  int64_t relayed_frames = 0;
  int64_t relayed_bytes = 0;
  for (const json& d : j["devices"]) {
    const std::string who = label + " '" + d["name"].get<std::string>() + "'";
    EXPECT_EQ(d["high_water_bytes"], d["arena_bytes"]) << who;
    EXPECT_EQ(d["bytes_sent"], d["planned_bytes_sent"]) << who;
    EXPECT_EQ(d["bytes_received"], d["planned_bytes_received"]) << who;
    EXPECT_EQ(d["data_frames_sent"], d["planned_data_frames_sent"]) << who;
    EXPECT_EQ(d["credit_frames_sent"], d["planned_credit_frames_sent"]) << who;
    // Besides Data and Credit: a worker's Result and its Stats frames, the
    // coordinator's Start to every device. Relayed frames are not its own.
    const bool coordinator = d["coordinator"].get<bool>();
    if (!coordinator) {
      EXPECT_GE(d["stats_frames_sent"].get<int64_t>(), 1) << who;
    }
    const int64_t control = coordinator ? devices : 1 + d["stats_frames_sent"].get<int64_t>();
    EXPECT_EQ(d["frames_sent"].get<int64_t>(), d["planned_data_frames_sent"].get<int64_t>() +
                                                   d["planned_credit_frames_sent"].get<int64_t>() +
                                                   control)
        << who;
    if (coordinator) {
      relayed_frames = d["frames_relayed"].get<int64_t>();
      relayed_bytes = d["bytes_relayed"].get<int64_t>();
    } else {
      EXPECT_EQ(d["frames_relayed"], 0) << who;
      EXPECT_EQ(d["bytes_relayed"], 0) << who;
    }
  }
  if (star) {
    const Relay want = expected_relay(dump);
    // Two devices that both take part exchange boxes (a plan may leave a
    // slow device out altogether: no ops, an arena of 0).
    if (active_devices(dump) >= 2) {
      EXPECT_GT(want.frames, 0) << label;
    }
    EXPECT_EQ(relayed_frames, want.frames) << label;
    EXPECT_EQ(relayed_bytes, want.bytes) << label;
  } else {
    EXPECT_EQ(relayed_frames, 0) << label;
    EXPECT_EQ(relayed_bytes, 0) << label;
  }
}

class CliRunMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<ScratchDir>("cli_run_matrix");
    small_mq_ = make_small_mq(*dir_, 2);
    ASSERT_FALSE(small_mq_.empty());
    small_reference_ = infer_output(small_mq_, kImage, "", "small_reference.pb");
    ASSERT_FALSE(small_reference_.empty());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // `infer MQ --output` on one device: the int8 output as TensorProto bytes.
  static std::string infer_output(const std::string& mq, const std::string& image,
                                  const std::string& image_args, const std::string& name) {
    const std::string out = dir_->file(name);
    const CliResult r = run_cli(
        "infer '" + mq + "' --input '" + image + "'" + image_args + " --output '" + out + "'",
        *dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? read_text_file(out) : "";
  }

  // Plans `mq` and returns the plan file's path; `dump` gets `plan --dump`.
  static std::string make_plan(const std::string& mq, const std::string& devices,
                               const std::string& strategy, json* dump) {
    const std::string file = dir_->file(devices + "_" + strategy + ".plan");
    const CliResult r = run_cli(
        "plan '" + mq + "' --devices " + devices + " --strategy " + strategy + " -o '" + file + "'",
        *dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const CliResult d = run_cli("plan --dump '" + file + "'", *dir_);
    EXPECT_EQ(d.exit_code, 0) << d.err;
    *dump = json::parse(d.out, nullptr, false);
    EXPECT_FALSE(dump->is_discarded()) << d.out.substr(0, 200);
    return file;
  }

  // `run PLAN --json --output` in `topology`; the parsed JSON (null on a
  // failure) and the output bytes.
  static json run_plan(const std::string& plan, const std::string& image,
                       const std::string& image_args, const std::string& topology,
                       const std::string& extra, std::string* output) {
    const std::string out = dir_->file("split_output.pb");
    std::filesystem::remove(out);
    const CliResult r = run_cli("run '" + plan + "' --input '" + image + "'" + image_args +
                                    " --topology " + topology + " --timeout " + kTimeoutMs +
                                    " --json --output '" + out + "'" + extra,
                                *dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return json();
    *output = read_text_file(out);
    const json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out.substr(0, 200);
    return j.is_discarded() ? json() : j;
  }

  static std::unique_ptr<ScratchDir> dir_;
  static std::string small_mq_;
  static std::string small_reference_;
};

std::unique_ptr<ScratchDir> CliRunMatrix::dir_;
std::string CliRunMatrix::small_mq_;
std::string CliRunMatrix::small_reference_;

struct MatrixCase {
  const char* devices;
  int device_count;
  const char* strategy;
  const char* topology;
};

class CliRunMatrixCases : public CliRunMatrix, public ::testing::WithParamInterface<MatrixCase> {};

TEST_P(CliRunMatrixCases, SmallMobileNetV2MatchesInferAndThePlan) {
  const MatrixCase c = GetParam();
  json dump;
  const std::string plan = make_plan(small_mq_, c.devices, c.strategy, &dump);
  ASSERT_FALSE(dump.is_null());
  ASSERT_EQ(dump["participants"].size(), static_cast<size_t>(c.device_count) + 1);
  std::string output;
  const json j = run_plan(plan, kImage, "", c.topology, "", &output);
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(output, small_reference_);
  const std::string label = std::string(c.devices) + " " + c.strategy + " " + c.topology;
  expect_figures_match_plan(j, dump, std::string(c.topology) == "star", c.device_count, label);
}

// N = 1, 3, 8 of one profile and two mixes of profiles, auto and paper, each
// in both topologies; sized to keep the file well under a minute on 2 cores.
INSTANTIATE_TEST_SUITE_P(
    Shapes, CliRunMatrixCases,
    ::testing::Values(MatrixCase{"1xteensy41", 1, "auto", "switched"},
                      MatrixCase{"1xteensy41", 1, "auto", "star"},
                      MatrixCase{"3xteensy41", 3, "auto", "switched"},
                      MatrixCase{"3xteensy41", 3, "auto", "star"},
                      MatrixCase{"3xteensy41", 3, "paper", "switched"},
                      MatrixCase{"3xteensy41", 3, "paper", "star"},
                      MatrixCase{"8xteensy41", 8, "auto", "switched"},
                      MatrixCase{"8xteensy41", 8, "auto", "star"},
                      MatrixCase{"8xteensy41", 8, "paper", "switched"},
                      MatrixCase{"8xteensy41", 8, "paper", "star"},
                      MatrixCase{"2xteensy41,2xrp2040", 4, "auto", "switched"},
                      MatrixCase{"2xteensy41,2xrp2040", 4, "auto", "star"},
                      MatrixCase{"2xteensy41,2xrp2040", 4, "paper", "switched"},
                      MatrixCase{"2xteensy41,2xrp2040", 4, "paper", "star"},
                      MatrixCase{"1xstm32h743,2xesp32s3", 3, "auto", "switched"},
                      MatrixCase{"1xstm32h743,2xesp32s3", 3, "auto", "star"},
                      MatrixCase{"1xstm32h743,2xesp32s3", 3, "paper", "switched"},
                      MatrixCase{"1xstm32h743,2xesp32s3", 3, "paper", "star"}),
    [](const ::testing::TestParamInfo<MatrixCase>& param_info) {
      const MatrixCase& c = param_info.param;
      std::string name = std::string(c.devices) + "_" + c.strategy + "_" + c.topology;
      std::replace(name.begin(), name.end(), ',', '_');
      return name;
    });

// The trained model, quantized from real training images, classifying every
// test image on 4 workers in both topologies, bit-exact with one device.
TEST_F(CliRunMatrix, FashionMnistOnFourWorkersMatchesInferForEveryTestImage) {
  const std::string onnx = std::string(MCUSPLIT_SOURCE_DIR) + "/models/fashion_mnist_mbv2.onnx";
  const std::string mq = dir_->file("fashion.mq");
  const CliResult q = run_cli("quantize '" + onnx + "' --calib '" + FASHION_MNIST_DIR +
                                  "/train-images-idx3-ubyte.gz' --samples 50 -o '" + mq + "'",
                              *dir_);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const std::vector<std::string> images{"fashion_test0_ankle-boot.pgm",
                                        "fashion_test1_pullover.pgm", "fashion_test2_trouser.pgm",
                                        "fashion_test3_trouser.pgm"};
  int ran = 0;
  for (const char* strategy : {"auto", "paper"}) {
    json dump;
    const std::string plan = make_plan(mq, "4xteensy41", strategy, &dump);
    ASSERT_FALSE(dump.is_null());
    // Every image under auto; the paper's scheme (more traffic, same
    // arithmetic) on the first one.
    const size_t count = std::string(strategy) == "auto" ? images.size() : 1;
    for (size_t i = 0; i < count; ++i) {
      const std::string image = kImages + images[i];
      const std::string reference = infer_output(mq, image, kFashionArgs, "fashion_reference.pb");
      ASSERT_FALSE(reference.empty());
      for (const char* topology : {"switched", "star"}) {
        const std::string label = images[i] + " " + strategy + " " + topology;
        std::string output;
        const json j = run_plan(plan, image, kFashionArgs, topology, "", &output);
        ASSERT_FALSE(j.is_null()) << label;
        EXPECT_EQ(output, reference) << label;
        expect_figures_match_plan(j, dump, std::string(topology) == "star", 4, label);
        ++ran;
      }
    }
  }
  EXPECT_EQ(ran, 10);
}

TEST_F(CliRunMatrix, RepeatRunsAndTimesEveryInference) {
  json dump;
  const std::string plan = make_plan(small_mq_, "3xteensy41", "auto", &dump);
  for (const char* topology : {"switched", "star"}) {
    std::string output;
    const json j = run_plan(plan, kImage, "", topology, " --repeat 3", &output);
    ASSERT_FALSE(j.is_null()) << topology;
    EXPECT_EQ(output, small_reference_) << topology;
    ASSERT_EQ(j["latency_s"].size(), 3u) << topology;
    double sum = 0;
    for (const json& s : j["latency_s"]) {
      EXPECT_GT(s.get<double>(), 0.0) << topology;
      EXPECT_LT(s.get<double>(), 10.0) << topology;
      sum += s.get<double>();
    }
    EXPECT_NEAR(j["mean_latency_s"].get<double>(), sum / 3, 1e-9) << topology;
    // The figures are the last inference's: the same as a single run's.
    expect_figures_match_plan(j, dump, std::string(topology) == "star", 3,
                              std::string("--repeat 3 ") + topology);
  }
  const CliResult text = run_cli("run '" + plan + "' --input '" + kImage + "' --repeat 3", *dir_);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(" 3 inference(s)"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace mcusplit::testing
