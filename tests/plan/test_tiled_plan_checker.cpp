// The independent checker on tiled runs (plan.h): a plan the planner tiled
// passes, and each way of breaking its tiles is named.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/device_runtime_ram.h"
#include "plan/devices_shorthand.h"
#include "plan/plan_checker.h"
#include "plan/planner.h"
#include "plan/tiled_runs.h"
#include "plan_test_helpers.h"
#include "quant/quantized_zoo.h"

namespace mcusplit::plan {
namespace {

bool mentions(const std::vector<std::string>& problems, const std::string& a,
              const std::string& b = "") {
  for (const std::string& p : problems) {
    if (p.find(a) != std::string::npos && p.find(b) != std::string::npos) return true;
  }
  return false;
}

std::string first(const std::vector<std::string>& problems) {
  return problems.empty() ? "(none)" : problems.front();
}

// MobileNetV2-0.35 at 96 on two teensy41 with 48 KiB each: tiled runs.
struct TiledFixture {
  const quant::QGraph& graph = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  Plan plan;
  int last = -1;  // the last layer of a run computed in more than one tile on device 0
  TiledFixture() {
    plan = testing::plan_within(graph, "2xteensy41", 48 * 1024);
    for (int i = 0; i < static_cast<int>(plan.layers.size()) && last < 0; ++i) {
      if (is_tiled_run_end(plan.layers, i) && computes(0, i).size() > 1) last = i;
    }
  }
  // Indices of participant p's Compute ops of `layer`.
  std::vector<size_t> computes(int p, int layer) const {
    std::vector<size_t> out;
    const auto& ops = plan.participants[static_cast<size_t>(p)].ops;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == OpKind::Compute && ops[i].layer == layer) out.push_back(i);
    }
    return out;
  }
  PlanOp& op(size_t i) { return plan.participants[0].ops[i]; }
};

TEST(TiledRuns, TilesCoverTheBoxExactlyOnce) {
  const core::Box box{0, 8, 3, 17, 2, 13};
  for (int32_t th : {0, 1, 4, 5, 14, 20}) {
    for (int32_t tw : {0, 1, 3, 11}) {
      int64_t volume = 0;
      const std::vector<core::Box> tiles = run_tiles(box, th, tw);
      for (size_t i = 0; i < tiles.size(); ++i) {
        EXPECT_TRUE(core::contains(box, tiles[i]));
        EXPECT_EQ(tiles[i].c0, box.c0);
        EXPECT_EQ(tiles[i].c1, box.c1);
        for (size_t j = 0; j < i; ++j) EXPECT_TRUE(core::intersect(tiles[i], tiles[j]).empty());
        volume += tiles[i].volume();
      }
      EXPECT_EQ(volume, box.volume()) << th << "x" << tw;
      const int32_t rows = th > 0 ? (box.height() + th - 1) / th : 1;
      const int32_t cols = tw > 0 ? (box.width() + tw - 1) / tw : 1;
      EXPECT_EQ(tiles.size(), static_cast<size_t>(rows * cols)) << th << "x" << tw;
    }
  }
  EXPECT_TRUE(run_tiles(core::Box{}, 2, 2).empty());
}

TEST(TiledPlanChecker, ThePlannersTiledPlanPasses) {
  TiledFixture f;
  ASSERT_GE(f.last, 0) << "no run in more than one tile";
  EXPECT_EQ(check_plan(f.plan, f.graph), std::vector<std::string>{});
  EXPECT_LE(f.plan.max_peak_ram_bytes(), 48 * 1024);
}

TEST(TiledPlanChecker, TilesOfARunsLastLayerMayNotOverlap) {
  TiledFixture f;
  ASSERT_GE(f.last, 0);
  const std::vector<size_t> tiles = f.computes(0, f.last);
  // The second tile claims the first one's box as well.
  PlanOp& second = f.op(tiles[1]);
  const PlanOp& one = f.op(tiles[0]);
  second.box = core::Box{second.box.c0,
                         second.box.c1,
                         std::min(one.box.y0, second.box.y0),
                         std::max(one.box.y1, second.box.y1),
                         std::min(one.box.x0, second.box.x0),
                         std::max(one.box.x1, second.box.x1)};
  const auto problems = check_plan(f.plan, f.graph);
  EXPECT_TRUE(mentions(problems, "which an earlier op already computed")) << first(problems);
}

TEST(TiledPlanChecker, ALayerInsideARunComputesAtTheRunsStep) {
  TiledFixture f;
  ASSERT_GE(f.last, 0);
  const int inside = run_first_layer(f.plan.layers, f.last);
  ASSERT_LT(inside, f.last);
  const std::vector<size_t> ops = f.computes(0, inside);
  ASSERT_FALSE(ops.empty());
  PlanOp& o = f.op(ops.front());
  EXPECT_EQ(o.step, f.last);
  o.step = inside;
  const auto problems = check_plan(f.plan, f.graph);
  EXPECT_TRUE(mentions(problems, "not its step " + std::to_string(f.last))) << first(problems);
}

TEST(TiledPlanChecker, ATileBufferDeadBeforeItsReaderIsCaught) {
  TiledFixture f;
  ASSERT_GE(f.last, 0);
  const int inside = run_first_layer(f.plan.layers, f.last);
  const PlanOp& producer = f.op(f.computes(0, inside).front());
  PlanBuffer& tile = f.plan.participants[0].buffers[static_cast<size_t>(producer.dst_buffer)];
  ASSERT_GT(tile.last_op, tile.first_op);  // a later op of the tile reads it
  tile.last_op = tile.first_op;
  const auto problems = check_plan(f.plan, f.graph);
  EXPECT_TRUE(mentions(problems, "is used outside its lifetime")) << first(problems);
}

TEST(TiledPlanChecker, TheRuntimesShareCountsAgainstTheBudget) {
  TiledFixture f;
  ParticipantPlan& p = f.plan.participants[0];
  const int64_t whole = p.arena_bytes + core::kDeviceRuntimeRamBytes;
  p.ram_bytes = f.plan.cluster.devices[0].ram_bytes = whole - 16;
  const auto problems = check_plan(f.plan, f.graph);
  EXPECT_TRUE(mentions(problems, "exceed its RAM budget of " + std::to_string(whole - 16)))
      << first(problems);
}

}  // namespace
}  // namespace mcusplit::plan
