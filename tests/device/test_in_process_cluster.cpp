// Whole plans run in-process, one thread per participant: the output equals
// the single-device executor's bit for bit, every participant's measured
// arena high water equals its planned arena, and its traffic equals the
// plan's estimate; broken plans fail with a message instead of hanging.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "core/device_runtime_ram.h"
#include "host/in_process_cluster.h"
#include "model/idx_dataset.h"
#include "model/onnx_import.h"
#include "model/passes.h"
#include "plan/devices_shorthand.h"
#include "plan/plan_checker.h"
#include "plan/plan_test_helpers.h"
#include "plan/planner.h"
#include "plan/random_models.h"
#include "quant/calibration.h"
#include "quant/int8_executor.h"
#include "quant/quantized_zoo.h"
#include "quant/quantizer.h"

namespace mcusplit::host {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<int8_t> random_input(const quant::QGraph& g, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int8_t> in(static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()));
  for (auto& v : in) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
  return in;
}

int64_t receive_ops(const plan::ParticipantPlan& pp) {
  return std::count_if(pp.ops.begin(), pp.ops.end(),
                       [](const plan::PlanOp& op) { return op.kind == plan::OpKind::Receive; });
}

// Runs `file` on `input` and checks output, memory and traffic; `label`
// names the case. Returns false if the run threw.
bool expect_run_matches_plan(const quant::QGraph& g, const plan::PlanFile& file,
                             const std::vector<int8_t>& input, const std::string& label) {
  const std::vector<int8_t> expected = quant::Int8Executor(g).run(input);
  ClusterRun run;
  try {
    run = InProcessCluster(file).run(input);
  } catch (const Error& e) {
    ADD_FAILURE() << label << ": " << e.what();
    return false;
  }
  EXPECT_EQ(run.output, expected) << label;
  const auto& planned = file.plan.participants;
  EXPECT_EQ(run.participants.size(), planned.size()) << label;
  for (size_t p = 0; p < planned.size() && p < run.participants.size(); ++p) {
    const ParticipantRun& r = run.participants[p];
    const plan::ParticipantPlan& pp = planned[p];
    const std::string who = label + " participant '" + pp.name + "'";
    EXPECT_LE(r.high_water_bytes, pp.arena_bytes) << who;
    EXPECT_EQ(r.high_water_bytes, pp.arena_bytes) << who;
    EXPECT_EQ(r.bytes_sent, pp.estimate.bytes_sent) << who;
    EXPECT_EQ(r.messages_sent, pp.estimate.messages_sent) << who;
    EXPECT_EQ(r.bytes_received, pp.estimate.bytes_received) << who;
    EXPECT_EQ(r.messages_received, receive_ops(pp)) << who;
    EXPECT_EQ(r.layer_compute_s.size(), g.layers.size()) << who;
  }
  return true;
}

bool expect_run_matches_plan(const quant::QGraph& g, const plan::PlanFile& file, uint32_t seed,
                             const std::string& label) {
  return expect_run_matches_plan(g, file, random_input(g, seed), label);
}

// The cluster shapes every model below runs on: N = 1, 2, 3, 4, 8 of one
// profile, and two mixes of profiles (docs/cluster.md).
constexpr const char* kClusterShapes[] = {
    "1xteensy41", "2xteensy41",          "3xteensy41",           "4xteensy41",
    "8xteensy41", "2xteensy41,2xrp2040", "1xstm32h743,2xesp32s3"};

plan::PlanOptions random_case_options(uint32_t seed) {
  plan::PlanOptions o;
  o.scheme = seed % 3 == 0 ? plan::Scheme::Paper : plan::Scheme::Auto;
  o.objective = seed % 2 == 0 ? plan::Objective::Memory : plan::Objective::Latency;
  o.search_min_count = false;
  return o;
}

constexpr uint32_t kRandomSeeds = 1000;

TEST(InProcessCluster, RandomModelsOnRandomClustersMatchTheExecutor) {
  int ran = 0;
  int infeasible = 0;
  const auto start = Clock::now();
  for (uint32_t seed = 1; seed <= kRandomSeeds; ++seed) {
    const quant::QGraph g = plan::testing::random_cnn(seed);
    const plan::ClusterSpec cluster = plan::testing::random_cluster(seed * 7919u);
    plan::Plan p;
    try {
      p = plan::make_plan(g, cluster, random_case_options(seed));
    } catch (const Error& e) {
      ASSERT_EQ(e.exit_code(), kExitInfeasible) << "seed " << seed << ": " << e.what();
      ++infeasible;
      continue;
    }
    const plan::PlanFile file = provision_plan(p, g);
    const std::string label = "seed " + std::to_string(seed) + " (" +
                              std::to_string(cluster.device_count()) + " devices, " + p.strategy +
                              ")";
    if (expect_run_matches_plan(g, file, seed, label)) ++ran;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("random CNNs: %d run, %d infeasible, %.1f s\n", ran, infeasible, seconds);
  EXPECT_GT(ran, 900);  // random clusters are roomy: nearly every model fits
}

bool has_tiled_run(const plan::Plan& p) {
  return std::any_of(p.layers.begin(), p.layers.end(), [](const plan::LayerPlan& l) {
    return l.strategy == plan::Strategy::Tiled || l.tile_h > 0 || l.tile_w > 0;
  });
}

bool has_in_place_layer(const plan::Plan& p) {
  return std::any_of(p.layers.begin(), p.layers.end(),
                     [](const plan::LayerPlan& l) { return l.in_place; });
}

bool has_streamed_run(const plan::Plan& p) {
  return std::any_of(p.layers.begin(), p.layers.end(),
                     [](const plan::LayerPlan& l) { return l.stream_rows; });
}

// Random CNNs under budgets well below what a layer-by-layer plan needs:
// the planner places tiled runs, and every plan still passes the checker and
// runs bit-exact, its arena high water exactly the plan's (label slow: about
// 300 tiled plans, about 140 of them with rows streamed and 50 with depthwise
// layers in place).
TEST(InProcessCluster, TiledPlansUnderTightBudgetsMatchTheExecutor) {
  int tiled = 0;
  int streamed = 0;
  int in_place = 0;
  int infeasible = 0;
  const auto start = Clock::now();
  for (uint32_t seed = 1; seed <= 1000; ++seed) {
    const quant::QGraph g = plan::testing::random_cnn(seed);
    plan::ClusterSpec cluster = plan::testing::random_cluster(seed * 7919u);
    plan::PlanOptions o = random_case_options(seed);
    o.scheme = plan::Scheme::Auto;
    o.tile = false;
    int64_t arena = 0;
    try {
      arena = plan::make_plan(g, cluster, o).participants.front().arena_bytes;
    } catch (const Error&) {
      continue;
    }
    // Three quarters of the first device's layer-by-layer arena, for every device.
    for (plan::DeviceSpec& d : cluster.devices) {
      d.ram_bytes = core::kDeviceRuntimeRamBytes + arena * 3 / 4;
    }
    o.tile = true;
    plan::Plan p;
    try {
      p = plan::make_plan(g, cluster, o);
    } catch (const Error& e) {
      ASSERT_EQ(e.exit_code(), kExitInfeasible) << "seed " << seed << ": " << e.what();
      ++infeasible;
      continue;
    }
    const auto problems = plan::check_plan(p, g);
    EXPECT_TRUE(problems.empty()) << "seed " << seed << ": " << problems.front();
    if (!has_tiled_run(p)) continue;
    ++tiled;
    streamed += has_streamed_run(p) ? 1 : 0;
    in_place += has_in_place_layer(p) ? 1 : 0;
    expect_run_matches_plan(g, provision_plan(p, g), seed,
                            "seed " + std::to_string(seed) + " (tiled, " +
                                std::to_string(cluster.device_count()) + " devices)");
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "tight budgets: %d tiled plans run (%d with rows streamed, %d with depthwise in place), %d "
      "infeasible, %.1f s\n",
      tiled, streamed, in_place, infeasible, seconds);
  EXPECT_GT(tiled, 250);
  EXPECT_GT(streamed, 100);
  EXPECT_GT(in_place, 30);
}

// Planned for the least RAM, the depthwise layers of MobileNetV2 compute in
// place (their output over their input's bytes); in process the plan is
// bit-exact with its arena high water exactly the plan's.
TEST(InProcessCluster, DepthwiseInPlaceMatchesTheExecutor) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  const std::pair<const char*, int64_t> cases[] = {
      {"1xteensy41", 96 * 1024}, {"2xteensy41", 48 * 1024}, {"4xteensy41", 32 * 1024}};
  for (const auto& [devices, ram] : cases) {
    plan::ClusterSpec cluster = plan::parse_devices_shorthand(devices);
    plan::apply_ram_override(cluster, ram);
    plan::PlanOptions o;
    o.objective = plan::Objective::Memory;
    o.search_min_count = false;
    const plan::Plan p = plan::make_plan(g, cluster, o);
    ASSERT_TRUE(has_in_place_layer(p)) << devices;
    EXPECT_EQ(plan::check_plan(p, g), std::vector<std::string>{}) << devices;
    expect_run_matches_plan(g, provision_plan(p, g), 7, std::string(devices) + " in place");
  }
}

TEST(InProcessCluster, SmallMobileNetV2MatchesTheExecutorOnEveryShape) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  int ran = 0;
  const auto start = Clock::now();
  for (const char* devices : kClusterShapes) {
    for (plan::Scheme scheme : {plan::Scheme::Auto, plan::Scheme::Paper}) {
      for (plan::Topology topology :
           {plan::Topology::Switched, plan::Topology::Star, plan::Topology::Bus}) {
        plan::ClusterSpec cluster = plan::parse_devices_shorthand(devices);
        cluster.topology = topology;
        plan::PlanOptions o;
        o.scheme = scheme;
        const plan::Plan p = plan::make_plan(g, cluster, o);
        const std::string label = std::string(devices) + " " + plan::scheme_name(scheme) + " " +
                                  plan::topology_name(topology);
        if (expect_run_matches_plan(g, provision_plan(p, g), 42, label)) ++ran;
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("MobileNetV2 0.35/96: %d plans run, %.1f s\n", ran, seconds);
  EXPECT_EQ(ran, 42);
}

// Random CNNs on the fixed shapes (the random test above draws its clusters
// at random, so it does not promise every shape): every model fits every
// shape, so every plan must be made and run. The seeds are apart from the
// random test's, for models it has not seen.
constexpr uint32_t kFixedShapeFirstSeed = 5001;
constexpr uint32_t kFixedShapeSeeds = 64;

TEST(InProcessCluster, RandomModelsOnEveryClusterShapeMatchTheExecutor) {
  int ran = 0;
  const auto start = Clock::now();
  for (uint32_t seed = kFixedShapeFirstSeed; seed < kFixedShapeFirstSeed + kFixedShapeSeeds;
       ++seed) {
    const quant::QGraph g = plan::testing::random_cnn(seed);
    for (const char* devices : kClusterShapes) {
      for (plan::Scheme scheme : {plan::Scheme::Auto, plan::Scheme::Paper}) {
        const std::string label = "random CNN seed " + std::to_string(seed) + " on " + devices +
                                  " " + plan::scheme_name(scheme);
        plan::PlanOptions o;
        o.scheme = scheme;
        o.search_min_count = false;
        plan::Plan p;
        try {
          p = plan::make_plan(g, plan::parse_devices_shorthand(devices), o);
        } catch (const Error& e) {
          ADD_FAILURE() << label << ": " << e.what();
          continue;
        }
        if (expect_run_matches_plan(g, provision_plan(p, g), seed, label)) ++ran;
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("random CNNs on fixed shapes: %d plans run, %.1f s\n", ran, seconds);
  EXPECT_EQ(ran, static_cast<int>(kFixedShapeSeeds * std::size(kClusterShapes) * 2));
}

// The trained Fashion-MNIST model, quantized as `mcusplit quantize --calib
// train-images-idx3-ubyte.gz --samples 200` does, classifying real test
// images on every shape with both strategies.
const quant::QGraph& fashion_mnist_int8() {
  static const quant::QGraph q = [] {
    model::Graph g = model::import_onnx_file(std::string(MCUSPLIT_SOURCE_DIR) +
                                             "/models/fashion_mnist_mbv2.onnx");
    model::run_standard_passes(g);
    const auto& input_shape = g.tensors[static_cast<size_t>(g.inputs[0])].shape;
    auto source = quant::open_calibration_source(
        std::string(FASHION_MNIST_DIR) + "/train-images-idx3-ubyte.gz", input_shape, {});
    quant::CalibrationOptions options;
    options.samples = 200;
    const quant::Calibration calibration = quant::calibrate(g, *source, options);
    return quant::quantize_graph(g, calibration.ranges, "fashion_mnist_mbv2.onnx");
  }();
  return q;
}

TEST(InProcessCluster, FashionMnistModelOnEveryShapeMatchesTheExecutor) {
  const quant::QGraph& g = fashion_mnist_int8();
  const model::IdxImages images =
      model::read_idx_images(std::string(FASHION_MNIST_DIR) + "/t10k-images-idx3-ubyte.gz");
  const quant::QTensor& in = g.tensors[static_cast<size_t>(g.input)];
  const model::Dims input_shape{1, in.shape.c, in.shape.h, in.shape.w};
  constexpr int64_t kImages = 3;
  ASSERT_GE(images.count, kImages);
  int ran = 0;
  const auto start = Clock::now();
  for (const char* devices : kClusterShapes) {
    for (plan::Scheme scheme : {plan::Scheme::Auto, plan::Scheme::Paper}) {
      plan::PlanOptions o;
      o.scheme = scheme;
      const plan::Plan p = plan::make_plan(g, plan::parse_devices_shorthand(devices), o);
      const plan::PlanFile file = provision_plan(p, g);
      for (int64_t image = 0; image < kImages; ++image) {
        const std::vector<int8_t> input =
            quant::quantize_input(g, model::idx_image_tensor(images, image, input_shape).data);
        const std::string label = "fashion-mnist test image " + std::to_string(image) + " on " +
                                  devices + " " + plan::scheme_name(scheme);
        if (expect_run_matches_plan(g, file, input, label)) ++ran;
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("fashion-mnist: %d runs, %.1f s\n", ran, seconds);
  EXPECT_EQ(ran, static_cast<int>(std::size(kClusterShapes) * 2 * kImages));
}

// A small plan on a few devices whose ops the tests below break.
plan::Plan small_plan(const quant::QGraph& g) {
  plan::PlanOptions o;
  o.scheme = plan::Scheme::Paper;
  return plan::make_plan(g, plan::parse_devices_shorthand("3xteensy41"), o);
}

std::string run_error(const plan::Plan& p, const quant::QGraph& g,
                      std::chrono::milliseconds timeout) {
  ClusterOptions options;
  options.receive_timeout = timeout;
  const auto start = Clock::now();
  try {
    run_in_process(p, g, random_input(g, 1), options);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitFailure);
    // Failing must not take much longer than one timeout.
    EXPECT_LT(Clock::now() - start, timeout * 4 + std::chrono::seconds(2));
    return e.what();
  }
  ADD_FAILURE() << "expected the run to fail";
  return "";
}

TEST(InProcessCluster, AMissingSendIsATimeoutNamingWhoWaitedForWhat) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  plan::Plan p = small_plan(g);
  // Drop the coordinator's first send (the input to a device).
  auto& ops = p.participants[static_cast<size_t>(p.coordinator())].ops;
  const auto send = std::find_if(
      ops.begin(), ops.end(), [](const plan::PlanOp& op) { return op.kind == plan::OpKind::Send; });
  ASSERT_NE(send, ops.end());
  const std::string receiver = p.participants[static_cast<size_t>(send->peer)].name;
  plan::testing::erase_op_at(p.participants[static_cast<size_t>(p.coordinator())],
                             static_cast<int>(send - ops.begin()));
  const std::string message = run_error(p, g, std::chrono::milliseconds(1500));
  EXPECT_NE(message.find("'" + receiver + "' failed at op"), std::string::npos) << message;
  EXPECT_NE(message.find("receive of tensor '"), std::string::npos) << message;
  EXPECT_NE(message.find("from 'coordinator'"), std::string::npos) << message;
  EXPECT_NE(message.find("nothing arrived within 1500 ms"), std::string::npos) << message;
}

TEST(InProcessCluster, ReceivesOutOfPlanOrderAreReportedAsUnexpectedMessages) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  plan::Plan p = small_plan(g);
  // The coordinator collects several boxes from device 0; swap two of them.
  auto& ops = p.participants[static_cast<size_t>(p.coordinator())].ops;
  std::vector<size_t> from_device0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind == plan::OpKind::Receive && ops[i].peer == 0) from_device0.push_back(i);
  }
  ASSERT_GE(from_device0.size(), 2u);
  std::swap(ops[from_device0[0]], ops[from_device0[1]]);
  std::swap(ops[from_device0[0]].step, ops[from_device0[1]].step);
  const std::string message = run_error(p, g, std::chrono::milliseconds(2000));
  EXPECT_NE(message.find("'coordinator' failed at op"), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected message"), std::string::npos) << message;
  EXPECT_NE(message.find("from 'teensy41-0'"), std::string::npos) << message;
}

TEST(InProcessCluster, RejectsAnInputOfTheWrongSize) {
  const quant::QGraph g = plan::testing::random_cnn(3);
  const plan::Plan p = small_plan(g);
  const InProcessCluster cluster(provision_plan(p, g));
  EXPECT_THROW(cluster.run(std::vector<int8_t>(3)), Error);
}

TEST(InProcessCluster, MeasuresComputeTimePerLayer) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  const plan::Plan p = small_plan(g);
  const ClusterRun run = run_in_process(p, g, random_input(g, 5));
  double total = 0;
  for (size_t i = 0; i < run.participants.size(); ++i) {
    const ParticipantRun& r = run.participants[i];
    total += r.compute_s;
    for (size_t l = 0; l < g.layers.size(); ++l) {
      const core::Box& box = p.layers[l].boxes[i];
      // A layer the participant does not compute takes no time there.
      if (box.empty()) {
        EXPECT_EQ(r.layer_compute_s[l], 0.0) << r.name << " layer " << l;
      }
    }
    EXPECT_LE(r.compute_s, r.wall_s + 1e-6) << r.name;
  }
  EXPECT_GT(total, 0.0);
  EXPECT_GT(run.wall_s, 0.0);
}

}  // namespace
}  // namespace mcusplit::host
