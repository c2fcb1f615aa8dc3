// The planner end to end: every plan it makes passes the independent checker
// (plan_checker.h), on random CNNs and clusters and on MobileNetV2, and its
// failures name what does not fit.
#include <gtest/gtest.h>

#include <algorithm>

#include <string>

#include "common/error.h"
#include "core/device_runtime_ram.h"
#include "plan/devices_shorthand.h"
#include "plan/plan_checker.h"
#include "plan/planner.h"
#include "quant/quantized_zoo.h"
#include "random_models.h"

namespace mcusplit::plan {
namespace {

std::string check_summary(const Plan& plan, const quant::QGraph& graph) {
  const auto problems = check_plan(plan, graph);
  std::string text;
  for (size_t i = 0; i < problems.size() && i < 5; ++i) text += problems[i] + "\n";
  return text;
}

PlanOptions options(Scheme scheme, Objective objective = Objective::Latency) {
  PlanOptions o;
  o.scheme = scheme;
  o.objective = objective;
  return o;
}

// Hundreds of random CNNs on random clusters, every scheme and objective.
TEST(Planner, RandomModelsOnRandomClustersPassTheChecker) {
  int planned = 0;
  int infeasible = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    const quant::QGraph g = testing::random_cnn(seed);
    const ClusterSpec cluster = testing::random_cluster(seed * 7919u);
    const Scheme scheme = seed % 3 == 0 ? Scheme::Paper : Scheme::Auto;
    const Objective objective = seed % 2 == 0 ? Objective::Memory : Objective::Latency;
    PlanOptions o = options(scheme, objective);
    o.search_min_count = false;
    try {
      const Plan plan = make_plan(g, cluster, o);
      const std::string problems = check_summary(plan, g);
      EXPECT_TRUE(problems.empty()) << "seed " << seed << ":\n" << problems;
      ++planned;
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kExitInfeasible) << "seed " << seed << ": " << e.what();
      ++infeasible;
    }
  }
  // Random clusters are roomy enough that nearly every model fits.
  EXPECT_GT(planned, 250);
}

TEST(Planner, SmallMobileNetV2PassesTheCheckerOnEveryShape) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  for (const char* devices : {"1xteensy41", "2xteensy41", "3xteensy41", "4xteensy41", "8xteensy41",
                              "2xteensy41,2xrp2040", "16xesp32s3"}) {
    for (Topology topology : {Topology::Switched, Topology::Star, Topology::Bus}) {
      for (Scheme scheme : {Scheme::Auto, Scheme::Paper}) {
        ClusterSpec cluster = parse_devices_shorthand(devices);
        cluster.topology = topology;
        const Plan plan = make_plan(g, cluster, options(scheme));
        EXPECT_TRUE(check_summary(plan, g).empty())
            << devices << " " << topology_name(topology) << " " << scheme_name(scheme) << "\n"
            << check_summary(plan, g);
        EXPECT_GT(plan.estimated_latency_s, 0);
      }
    }
  }
}

TEST(Planner, OneDeviceHoldsTheSingleDeviceArena) {
  // One device with room: every layer on it, its arena as large as the
  // single-device executor's (plus Reshape copies, which alias there).
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  ClusterSpec cluster = parse_devices_shorthand("teensy41");
  const Plan plan = make_plan(g, cluster, options(Scheme::Auto));
  for (const LayerPlan& l : plan.layers) EXPECT_EQ(l.strategy, Strategy::Single);
  EXPECT_EQ(
      plan.participants[0].estimate.macs, 0 + [&] {
        int64_t macs = 0;
        for (const auto& l : g.layers) macs += quant::layer_macs(g, l);
        return macs;
      }());
}

int64_t total_macs(const Plan& p) {
  int64_t macs = 0;
  for (const ParticipantPlan& pp : p.participants) macs += pp.estimate.macs;
  return macs;
}

// Issue 13's targets for MobileNetV2-1.0 at 224: whole-device RAM (arena and
// the runtime's share) within 64 KiB on 8 teensy41 at a small cost in
// latency and recomputed MACs, and one teensy41 alone within 256 KiB. The
// figures are deterministic (shapes and weight sizes only).
TEST(Planner, MobileNetV2At224FitsSixtyFourKiBOnEightAndTwoHundredFiftySixOnOne) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(1.0f, 224, 1000);
  constexpr int64_t kModelMacs = 300774272;
  const auto plan_at = [&](const char* devices, int64_t ram,
                           Objective objective = Objective::Latency) {
    ClusterSpec cluster = parse_devices_shorthand(devices);
    if (ram > 0) apply_ram_override(cluster, ram);
    PlanOptions o = options(Scheme::Auto);
    o.search_min_count = false;
    o.objective = objective;
    const Plan p = make_plan(g, cluster, o);
    EXPECT_EQ(check_summary(p, g), "") << devices;
    return p;
  };
  const Plan roomy = plan_at("8xteensy41", 256 * 1024);
  const Plan tight = plan_at("8xteensy41", 64 * 1024);
  EXPECT_EQ(tight.max_peak_ram_bytes(), 65456);
  EXPECT_LE(tight.max_peak_ram_bytes(), 64 * 1024);
  for (const ParticipantPlan& p : tight.participants) {
    if (!p.coordinator) {
      EXPECT_EQ(p.runtime_bytes, core::kDeviceRuntimeRamBytes);
    }
  }
  EXPECT_LE(tight.estimated_latency_s, 1.25 * roomy.estimated_latency_s);
  EXPECT_LE(static_cast<double>(total_macs(tight)), 1.15 * kModelMacs);
  EXPECT_EQ(roomy.max_peak_ram_bytes(), 212304);

  const Plan one = plan_at("1xteensy41", 0);  // the profile's RAM: 1 MiB
  EXPECT_EQ(one.max_peak_ram_bytes(), 996624);
  const Plan one_small = plan_at("1xteensy41", 256 * 1024);
  EXPECT_EQ(one_small.max_peak_ram_bytes(), 259216);
  EXPECT_LE(static_cast<double>(total_macs(one_small)), 1.15 * kModelMacs);
  // For the least RAM its depthwise layers compute in place.
  const Plan one_least = plan_at("1xteensy41", 256 * 1024, Objective::Memory);
  EXPECT_EQ(one_least.max_peak_ram_bytes(), 249536);
  EXPECT_TRUE(std::any_of(one_least.layers.begin(), one_least.layers.end(),
                          [](const LayerPlan& l) { return l.in_place; }));
}

TEST(Planner, RamBelowTheRuntimesShareIsRefusedNamingIt) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  ClusterSpec cluster = parse_devices_shorthand("2xnrf52840");
  cluster.devices[1].ram_bytes = core::kDeviceRuntimeRamBytes;
  try {
    make_plan(g, cluster, options(Scheme::Auto));
    FAIL() << "expected the plan to be infeasible";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitInfeasible);
    EXPECT_EQ(std::string(e.what()),
              "the model does not fit the cluster: device 'nrf52840-1' has " +
                  std::to_string(core::kDeviceRuntimeRamBytes) +
                  " bytes of RAM, no more than the device runtime's own " +
                  std::to_string(core::kDeviceRuntimeRamBytes) +
                  " (stack, frame buffers, session state), so no arena fits at any device count");
  }
}

TEST(Planner, InfeasibleClusterNamesLayerDeviceBytesAndSmallestCount) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  // Whole RAM: the runtime's share and 32 KiB for the arena.
  const int64_t ram = core::kDeviceRuntimeRamBytes + 32 * 1024;
  ClusterSpec cluster = parse_devices_shorthand("1xnrf52840");
  apply_ram_override(cluster, ram);
  try {
    make_plan(g, cluster, options(Scheme::Auto));
    FAIL() << "expected the plan to be infeasible";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitInfeasible);
    const std::string m = e.what();
    EXPECT_NE(m.find("layer '"), std::string::npos) << m;
    EXPECT_NE(m.find("device 'nrf52840-"), std::string::npos) << m;
    EXPECT_NE(m.find("which has " + std::to_string(ram) + " bytes"), std::string::npos) << m;
    EXPECT_NE(m.find("the smallest count of nrf52840 that fits is "), std::string::npos) << m;
    // The count it names does fit.
    const int count = std::stoi(m.substr(m.rfind(' ') + 1));
    ClusterSpec bigger = parse_devices_shorthand(std::to_string(count) + "xnrf52840");
    apply_ram_override(bigger, ram);
    EXPECT_NO_THROW(make_plan(g, bigger, options(Scheme::Auto)));
    ClusterSpec smaller = parse_devices_shorthand(std::to_string(count - 1) + "xnrf52840");
    apply_ram_override(smaller, ram);
    PlanOptions o = options(Scheme::Auto);
    o.search_min_count = false;
    EXPECT_THROW(make_plan(g, smaller, o), Error);
  }
}

TEST(Planner, PlansAreDeterministic) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  const ClusterSpec cluster = parse_devices_shorthand("3xteensy41,2xesp32s3");
  const Plan a = make_plan(g, cluster, options(Scheme::Auto));
  const Plan b = make_plan(g, cluster, options(Scheme::Auto));
  EXPECT_EQ(a.max_peak_ram_bytes(), b.max_peak_ram_bytes());
  EXPECT_EQ(a.total_bytes_transferred(), b.total_bytes_transferred());
  EXPECT_EQ(a.estimated_latency_s, b.estimated_latency_s);
}


// A device much slower than the rest can cost a run more than it gives: the
// planner also plans without the slowest devices and keeps the faster plan,
// so adding rp2040s to four teensy41 never makes the estimate worse, and the
// plan passes the checker.
TEST(Planner, SlowDevicesNeverMakeTheEstimateWorse) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  const Plan alone = make_plan(g, parse_devices_shorthand("4xteensy41"), options(Scheme::Auto));
  const Plan mixed =
      make_plan(g, parse_devices_shorthand("4xteensy41,4xrp2040"), options(Scheme::Auto));
  EXPECT_LE(mixed.estimated_latency_s, alone.estimated_latency_s * (1 + 1e-12));
  EXPECT_EQ(check_summary(mixed, g), "");
}

}  // namespace
}  // namespace mcusplit::plan
