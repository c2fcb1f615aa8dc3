// Streamed runs (plan.h, LayerPlan::stream_rows): the schedule computes each
// row of a tiled layer once and copies it to the tile below, the planner
// chooses them where they fit, and the checker verifies their copies.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plan/devices_shorthand.h"
#include "plan/layer_geometry.h"
#include "plan/plan_checker.h"
#include "plan/plan_file.h"
#include "plan/planner.h"
#include "plan/tiled_runs.h"
#include "plan_test_helpers.h"
#include "quant/quantized_zoo.h"

namespace mcusplit::plan {
namespace {

using core::Box;

const quant::QGraph& small_mobilenet() {
  return mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
}

// The first inverted residual block with an expansion: a run of expand
// (1x1), depthwise (3x3) and project (1x1) whose windows overlap.
int first_block(const quant::QGraph& g) {
  for (int a = 0; a + 2 < static_cast<int>(g.layers.size()); ++a) {
    if (!run_problem(g, a, a + 2).empty()) continue;
    const Box out = core::full_box(g.tensors[static_cast<size_t>(g.layers[a + 2].output)].shape);
    if (run_footprint(g, a, a + 2, out, 1, 0, true).copied_bytes > 0) return a;
  }
  return -1;
}

TEST(TiledRuns, StreamedTilesGoDownEachColumn) {
  const Box box{0, 4, 0, 10, 0, 9};
  const std::vector<Box> rows = run_tiles(box, 3, 4);
  const std::vector<Box> columns = run_tiles(box, 3, 4, true);
  ASSERT_EQ(columns.size(), rows.size());
  for (const Box& t : rows) EXPECT_NE(std::find(columns.begin(), columns.end(), t), columns.end());
  for (size_t i = 1; i < columns.size(); ++i) {
    const Box& a = columns[i - 1];
    const Box& b = columns[i];
    // Down a column, or to the top of the next one.
    EXPECT_TRUE((b.x0 == a.x0 && b.y0 == a.y1) || (b.x0 == a.x1 && b.y0 == box.y0)) << i;
  }
}

// Each row of a streamed layer is computed once per column of tiles; the
// rows a window shares with the one above are copied from it.
TEST(TiledRuns, AStreamedRunComputesEachRowOnceAndCopiesTheOverlap) {
  const quant::QGraph& g = small_mobilenet();
  const int a = first_block(g);
  ASSERT_GE(a, 0);
  const int b = a + 2;
  const Box out = core::full_box(g.tensors[static_cast<size_t>(g.layers[b].output)].shape);
  for (int32_t th : {1, 2, 5}) {
    for (int32_t tw : {0, 7}) {
      const auto schedule = run_schedule(g, a, b, out, th, tw, true);
      int64_t macs = 0;
      std::vector<Box> previous(3);
      std::vector<std::vector<Box>> computed(3);
      for (const auto& tile : schedule) {
        for (const TileLayer& t : tile) {
          const size_t j = static_cast<size_t>(t.layer - a);
          EXPECT_TRUE(core::contains(t.window, t.compute));
          EXPECT_TRUE(core::intersect(t.copy, t.compute).empty());
          EXPECT_EQ(t.copy.volume() + t.compute.volume(), t.window.volume());
          if (!t.copy.empty()) {
            EXPECT_TRUE(core::contains(previous[j], t.copy));
          }
          for (const Box& c : computed[j]) {
            // Halos across columns of tiles are recomputed; rows are not.
            if (c.x0 != t.compute.x0 || c.x1 != t.compute.x1) continue;
            EXPECT_TRUE(core::intersect(c, t.compute).empty())
                << "layer " << t.layer << " recomputes " << th << "x" << tw;
          }
          computed[j].push_back(t.compute);
          macs += box_macs(g.layers[static_cast<size_t>(t.layer)], t.compute);
          previous[j] = t.window;
        }
      }
      if (tw == 0) {
        // Full-width rows: exactly the MACs of computing the layers whole.
        int64_t whole = 0;
        for (int l = a; l <= b; ++l) {
          whole += box_macs(g.layers[static_cast<size_t>(l)],
                            core::full_box(g.tensors[static_cast<size_t>(g.layers[l].output)].shape));
        }
        EXPECT_EQ(macs, whole) << th;
      }
      const RunFootprint streamed = run_footprint(g, a, b, out, th, tw, true);
      const RunFootprint recomputed = run_footprint(g, a, b, out, th, tw, false);
      EXPECT_EQ(streamed.macs, macs);
      EXPECT_LT(streamed.macs, recomputed.macs) << th << "x" << tw;
      EXPECT_GT(streamed.copied_bytes, 0);
      EXPECT_EQ(recomputed.copied_bytes, 0);
    }
  }
}

// MobileNetV2-0.35 at 96 on two teensy41 with 40 KiB each: streamed runs.
struct StreamedFixture {
  const quant::QGraph& graph = small_mobilenet();
  Plan plan;
  int copy_op = -1;  // a streamed run's Copy on device 0
  StreamedFixture() {
    plan = testing::plan_within(graph, "2xteensy41", 40 * 1024);
    const auto& ops = plan.participants[0].ops;
    for (size_t i = 1; i < ops.size() && copy_op < 0; ++i) {
      if (ops[i].kind == OpKind::Copy && ops[i - 1].kind == OpKind::Compute &&
          ops[i].step == ops[i - 1].step) {
        copy_op = static_cast<int>(i);
      }
    }
  }
};

TEST(StreamedPlanChecker, ThePlannersStreamedPlanPassesAndRoundTrips) {
  StreamedFixture f;
  ASSERT_GE(f.copy_op, 0) << "no streamed run on device 0";
  EXPECT_EQ(check_plan(f.plan, f.graph), std::vector<std::string>{});
  EXPECT_LE(f.plan.max_peak_ram_bytes(), 40 * 1024);
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "streamed.plan");
  EXPECT_EQ(file.plan, f.plan);
}

TEST(StreamedPlanChecker, AMissingCopyLeavesRowsUnwritten) {
  StreamedFixture f;
  ASSERT_GE(f.copy_op, 0);
  testing::erase_op_at(f.plan.participants[0], f.copy_op);
  const auto problems = check_plan(f.plan, f.graph);
  ASSERT_FALSE(problems.empty());
  bool named = false;
  for (const std::string& p : problems) named = named || p.find("data that is not there") != p.npos;
  EXPECT_TRUE(named) << problems.front();
}

TEST(StreamedPlanChecker, OnlyACopyMayFollowTheStepsComputes) {
  StreamedFixture f;
  ASSERT_GE(f.copy_op, 0);
  auto& ops = f.plan.participants[0].ops;
  // A streamed Copy may follow its step's computes; a Receive may not.
  PlanOp& copy = ops[static_cast<size_t>(f.copy_op)];
  copy.kind = OpKind::Receive;
  copy.peer = 1;
  const auto problems = check_plan(f.plan, f.graph);
  bool named = false;
  for (const std::string& p : problems) named = named || p.find("of the same step") != p.npos;
  EXPECT_TRUE(named) << (problems.empty() ? "(none)" : problems.front());
}

TEST(StreamedPlanFile, StreamingOnALayerThatEndsNoRunIsRefused) {
  StreamedFixture f;
  int lone = -1;  // a layer that does not end a run
  for (int i = 1; i < static_cast<int>(f.plan.layers.size()) && lone < 0; ++i) {
    if (f.plan.layers[i].strategy != Strategy::Tiled &&
        f.plan.layers[i - 1].strategy != Strategy::Tiled) {
      lone = i;
    }
  }
  ASSERT_GE(lone, 0);
  f.plan.layers[static_cast<size_t>(lone)].stream_rows = true;
  try {
    serialize_plan(f.plan, f.graph);
    FAIL() << "expected the writer to refuse the plan";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("streams rows but is not the last layer of a tiled run"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mcusplit::plan
