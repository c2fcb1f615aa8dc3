// Shares, boxes and box algebra of the planner.
#include <gtest/gtest.h>

#include <numeric>

#include "plan/box_algebra.h"
#include "plan/partition.h"

namespace mcusplit::plan {
namespace {

using core::Box;

TEST(Apportion, ProportionalToWeightsAndSumsToUnits) {
  EXPECT_EQ(apportion(10, {1, 1}), (std::vector<int32_t>{5, 5}));
  EXPECT_EQ(apportion(12, {1, 2, 3}), (std::vector<int32_t>{2, 4, 6}));
  EXPECT_EQ(apportion(7, {1, 1, 1}), (std::vector<int32_t>{3, 2, 2}));
  EXPECT_EQ(apportion(5, {1, 0, 1}), (std::vector<int32_t>{3, 0, 2}));
  EXPECT_EQ(apportion(0, {1, 1}), (std::vector<int32_t>{0, 0}));
}

TEST(Apportion, SlowParticipantGetsNothingWhenOneUnitWouldMakeItLast) {
  // 24x slower: one of 8 units would take it 24 time units, the others 4.
  EXPECT_EQ(apportion(8, {24, 1}), (std::vector<int32_t>{8, 0}));
  // With 100 units its one unit (24) is shorter than the fast share (~96).
  const auto counts = apportion(100, {24, 1});
  EXPECT_EQ(counts[0] + counts[1], 100);
  EXPECT_GE(counts[1], 1);
}

TEST(Apportion, CarryKeepsTotalsOnShareAcrossSplits) {
  // Three equal participants splitting one unit at a time: the carry makes
  // them take turns instead of the first always winning the tie.
  std::vector<double> carry(3, 0.0);
  std::vector<int32_t> totals(3, 0);
  for (int i = 0; i < 30; ++i) {
    const auto c = apportion(1, {1, 1, 1}, &carry);
    for (size_t k = 0; k < 3; ++k) totals[k] += c[k];
  }
  EXPECT_EQ(totals, (std::vector<int32_t>{10, 10, 10}));
}

TEST(StrategyBoxes, TileTheOutput) {
  const core::TensorShape3 s{8, 10, 6};
  const auto rows = strategy_boxes(Strategy::Spatial, s, {3, 0, 7}, 0);
  EXPECT_EQ(rows[0], (Box{0, 8, 0, 3, 0, 6}));
  EXPECT_TRUE(rows[1].empty());
  EXPECT_EQ(rows[2], (Box{0, 8, 3, 10, 0, 6}));
  const auto channels = strategy_boxes(Strategy::Channel, s, {5, 3}, 0);
  EXPECT_EQ(channels[0], (Box{0, 5, 0, 10, 0, 6}));
  EXPECT_EQ(channels[1], (Box{5, 8, 0, 10, 0, 6}));
  const auto single = strategy_boxes(Strategy::Single, s, {0, 0, 0}, 1);
  EXPECT_EQ(single[1], core::full_box(s));
  EXPECT_TRUE(single[0].empty() && single[2].empty());
}

int64_t total_volume(const std::vector<Box>& boxes) {
  int64_t v = 0;
  for (const Box& b : boxes) v += b.volume();
  return v;
}

TEST(BoxAlgebra, SubtractLeavesDisjointRemainder) {
  const Box a{0, 4, 0, 10, 0, 10};
  const Box hole{1, 3, 2, 5, 3, 7};
  const auto rest = subtract(a, hole);
  EXPECT_EQ(total_volume(rest), a.volume() - hole.volume());
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_TRUE(core::intersect(rest[i], hole).empty());
    EXPECT_TRUE(core::contains(a, rest[i]));
    for (size_t j = i + 1; j < rest.size(); ++j) {
      EXPECT_TRUE(core::intersect(rest[i], rest[j]).empty());
    }
  }
  EXPECT_TRUE(subtract(a, a).empty());
  EXPECT_EQ(subtract(a, Box{0, 4, 20, 30, 0, 10}), std::vector<Box>{a});
  EXPECT_EQ(bounding_box(Box{0, 1, 0, 1, 0, 1}, Box{2, 3, 4, 5, 6, 7}), (Box{0, 3, 0, 5, 0, 7}));
  EXPECT_EQ(bounding_box(Box{}, hole), hole);
}

}  // namespace
}  // namespace mcusplit::plan

namespace mcusplit::plan {
namespace {

TEST(DivideOutput, SpatialCarryRotatesTheOddRow) {
  // Two equal devices and 3 rows: the extra row alternates between them.
  const core::TensorShape3 shape{4, 3, 5};
  std::vector<double> carry(2, 0.0);
  int first_rows = 0;
  for (int i = 0; i < 10; ++i) {
    const auto boxes = divide_output(Strategy::Spatial, shape, {1, 1}, 0, &carry, 60);
    first_rows += boxes[0].height();
    EXPECT_EQ(boxes[0].height() + boxes[1].height(), 3);
  }
  EXPECT_EQ(first_rows, 15);
}

TEST(DivideOutput, SlowDevicesShareABandByColumns) {
  // 4 fast, 4 twenty-four times slower, 56x56: the slow ones each get a
  // tile of about 1% of the pixels instead of nothing or a whole row.
  const core::TensorShape3 shape{8, 56, 56};
  const std::vector<double> w = {24, 24, 24, 24, 1, 1, 1, 1};
  const auto boxes = divide_output(Strategy::Spatial, shape, w, 0, nullptr, 56.0 * 56);
  int64_t total = 0;
  for (size_t i = 0; i < boxes.size(); ++i) {
    total += boxes[i].volume();
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      EXPECT_TRUE(core::intersect(boxes[i], boxes[j]).empty());
    }
  }
  EXPECT_EQ(total, shape.volume());
  for (size_t i = 4; i < 8; ++i) {
    EXPECT_EQ(boxes[i].height(), 1);
    EXPECT_EQ(boxes[i].width(), 28);
  }
}

}  // namespace
}  // namespace mcusplit::plan
