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

TEST(Apportion, SharesKeepsASlowParticipantOnItsShare) {
  // Largest remainder gives the second participant one of 5 units, which
  // takes it longer than the first's 4: Shortest moves it off, Shares keeps it.
  EXPECT_EQ(apportion(5, {10, 1, 1}), (std::vector<int32_t>{5, 0, 0}));
  EXPECT_EQ(apportion(5, {10, 1, 1}, nullptr, 1, 1, Rounding::Shares),
            (std::vector<int32_t>{4, 1, 0}));
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

// Work of each box as a fraction of the layer's.
std::vector<double> work_fractions(const std::vector<Box>& boxes, const core::TensorShape3& s) {
  std::vector<double> f;
  for (const Box& b : boxes) f.push_back(static_cast<double>(b.volume()) / s.volume());
  return f;
}

void expect_tiled(const std::vector<Box>& boxes, const core::TensorShape3& s) {
  EXPECT_EQ(total_volume(boxes), s.volume());
  for (size_t i = 0; i < boxes.size(); ++i) {
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      EXPECT_TRUE(core::intersect(boxes[i], boxes[j]).empty()) << i << " " << j;
    }
  }
}

TEST(DivideOutput, SlowDevicesShareABandOfChannelsByPixels) {
  // 4 devices and 4 fifteen times slower, 96 channels at 12x12: a slow one's
  // share is 1.5 channels, which whole channels round by a third. The slow
  // ones share a band of 6 channels, a quarter of its pixels each.
  const core::TensorShape3 shape{96, 12, 12};
  const std::vector<double> w = {15, 15, 15, 15, 1, 1, 1, 1};
  const auto boxes = divide_output(Strategy::Channel, shape, w, 0, nullptr, 96.0 * 144);
  expect_tiled(boxes, shape);
  for (size_t i = 4; i < 8; ++i) {
    EXPECT_EQ(boxes[i].channels(), 6) << i;
    EXPECT_EQ(boxes[i].c0, boxes[4].c0);
    EXPECT_EQ(boxes[i].height() * boxes[i].width(), 36) << i;
  }
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(boxes[i].height() * boxes[i].width(), 144);
}

TEST(DivideOutput, ASmallBandIsJoinedByTheNextSmallestShares) {
  // 16 channels: the slow devices' band would be one channel, rounded by
  // half, so a fast device joins it (4.75 channels' worth, rounded to 5).
  const core::TensorShape3 shape{16, 12, 12};
  const std::vector<double> w = {15, 15, 15, 15, 1, 1, 1, 1};
  const auto boxes =
      divide_output(Strategy::Channel, shape, w, 0, nullptr, 16.0 * 144, 1, Rounding::Shares);
  expect_tiled(boxes, shape);
  int sharing = 0;
  for (size_t i = 0; i < 4; ++i) sharing += boxes[i].c0 == boxes[4].c0 ? 1 : 0;
  EXPECT_EQ(sharing, 1);
  const std::vector<double> f = work_fractions(boxes, shape);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_NEAR(f[i], w[i] / 64, 0.25 * w[i] / 64) << i;
  }
}

TEST(DivideOutput, EqualDevicesSplitWholeChannelsInKernelGroups) {
  // No pool among equals; depthwise groups of 4 (the last device the rest).
  const core::TensorShape3 shape{18, 6, 6};
  const auto boxes = divide_output(Strategy::Channel, shape, {1, 1}, 0, nullptr, 18.0 * 36, 4);
  EXPECT_EQ(boxes[0], (Box{0, 12, 0, 6, 0, 6}));
  EXPECT_EQ(boxes[1], (Box{12, 18, 0, 6, 0, 6}));
}

TEST(DivideOutput, SharesKeepEveryDevicesTotalOnItsWeight) {
  // Forty layers of a few channels: whole channels cannot give the slow
  // devices their 1/64 of any one, the carry and the band give it over all.
  const std::vector<double> w = {15, 15, 15, 15, 1, 1, 1, 1};
  std::vector<double> carry(w.size(), 0.0);
  std::vector<double> done(w.size(), 0.0);
  double all = 0;
  for (int layer = 0; layer < 40; ++layer) {
    const core::TensorShape3 shape{8 + 8 * (layer % 5), 6, 6};
    const double work = static_cast<double>(shape.volume());
    const auto boxes =
        divide_output(Strategy::Channel, shape, w, 0, &carry, work, 2, Rounding::Shares);
    expect_tiled(boxes, shape);
    for (size_t i = 0; i < w.size(); ++i) done[i] += boxes[i].volume();
    all += work;
  }
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(done[i] / all, w[i] / 64, 0.1 * w[i] / 64) << i;
}

}  // namespace
}  // namespace mcusplit::plan
