// Depthwise layers planned in place (LayerPlan::in_place): the output buffer
// takes its input's bytes; the checker accepts exactly that overlap.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "plan/devices_shorthand.h"
#include "plan/plan_checker.h"
#include "plan/plan_file.h"
#include "plan/planner.h"
#include "plan_test_helpers.h"
#include "quant/quantized_zoo.h"

namespace mcusplit::plan {
namespace {

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const std::string& p : problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

// MobileNetV2-0.35 at 96 on one teensy41 with 96 KiB, planned for the least
// RAM: its depthwise layers compute in place.
struct InPlaceFixture {
  const quant::QGraph& graph = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  Plan plan;
  int op = -1;  // a Compute on device 0 whose output lies over its input
  InPlaceFixture() {
    plan = testing::plan_within(graph, "1xteensy41", 96 * 1024, Objective::Memory);
    const ParticipantPlan& pp = plan.participants[0];
    for (size_t i = 0; i < pp.ops.size() && op < 0; ++i) {
      const PlanOp& c = pp.ops[i];
      if (c.kind == OpKind::Compute && !c.inputs.empty() && c.inputs[0] >= 0 &&
          pp.buffers[static_cast<size_t>(c.inputs[0])].offset ==
              pp.buffers[static_cast<size_t>(c.dst_buffer)].offset) {
        op = static_cast<int>(i);
      }
    }
  }
  PlanOp& compute() { return plan.participants[0].ops[static_cast<size_t>(op)]; }
  PlanBuffer& output() {
    return plan.participants[0].buffers[static_cast<size_t>(compute().dst_buffer)];
  }
};

TEST(InPlacePlans, ThePlannersInPlacePlanPassesAndRoundTrips) {
  InPlaceFixture f;
  ASSERT_GE(f.op, 0) << "no depthwise layer computed in place";
  EXPECT_TRUE(f.plan.layers[static_cast<size_t>(f.compute().layer)].in_place);
  EXPECT_EQ(check_plan(f.plan, f.graph), std::vector<std::string>{});
  EXPECT_LE(f.plan.max_peak_ram_bytes(), 96 * 1024);
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "in_place.plan");
  EXPECT_EQ(file.plan, f.plan);
}

TEST(InPlacePlans, AnOutputOffTheInputsFirstByteIsAnOverlap) {
  InPlaceFixture f;
  ASSERT_GE(f.op, 0);
  f.output().offset += 4;
  EXPECT_TRUE(mentions(check_plan(f.plan, f.graph), "share arena bytes"));
}

TEST(InPlacePlans, ALayerNotPlannedInPlaceMayNotOverlapItsInput) {
  InPlaceFixture f;
  ASSERT_GE(f.op, 0);
  f.plan.layers[static_cast<size_t>(f.compute().layer)].in_place = false;
  EXPECT_TRUE(mentions(check_plan(f.plan, f.graph), "share arena bytes"));
}

TEST(InPlacePlans, TooLittleScratchForThePlaneIsNamed) {
  InPlaceFixture f;
  ASSERT_GE(f.op, 0);
  f.compute().scratch_bytes -= 4;
  EXPECT_TRUE(mentions(check_plan(f.plan, f.graph), "in place"));
}

TEST(InPlacePlans, TheWriterRefusesInPlaceOnAnOrdinaryConvolution) {
  InPlaceFixture f;
  f.plan.layers[0].in_place = true;  // the stem: a 3x3 convolution over 3 channels
  try {
    serialize_plan(f.plan, f.graph);
    FAIL() << "expected the writer to refuse the plan";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot run in place"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mcusplit::plan
