// The generic buffer planner: greedy placement, alignment, validity checker.
#include <gtest/gtest.h>

#include <random>

#include "common/error.h"
#include "common/memory_planner.h"

namespace mcusplit::quant {
namespace {

TEST(GreedyMemoryPlanner, BuffersWithDisjointLifetimesShareBytes) {
  const std::vector<BufferRequest> buffers = {{"a", 100, 0, 1}, {"b", 60, 2, 3}, {"c", 80, 4, 4}};
  const BufferLayout layout = GreedyMemoryPlanner{}.plan(buffers);
  EXPECT_EQ(layout.offsets, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(layout.arena_bytes, 100);
  EXPECT_EQ(find_layout_error(buffers, layout), "");
}

TEST(GreedyMemoryPlanner, ChainNeedsTheLargestAdjacentPair) {
  // A -> B -> C as layers 0 and 1: A [0,0], B [0,1], C [1,1].
  const std::vector<BufferRequest> buffers = {{"A", 320, 0, 0}, {"B", 64, 0, 1}, {"C", 256, 1, 1}};
  const BufferLayout layout = GreedyMemoryPlanner{}.plan(buffers);
  EXPECT_EQ(layout.arena_bytes, std::max(320 + 64, 64 + 256));
  EXPECT_EQ(find_layout_error(buffers, layout), "");
}

TEST(GreedyMemoryPlanner, FillsAGapBelowAPlacedBuffer) {
  // A sits at 0, B above it (both live at step 0); C lives only with B, so it
  // takes the hole A leaves at step 1.
  const std::vector<BufferRequest> buffers = {{"A", 300, 0, 0}, {"B", 200, 0, 1}, {"C", 100, 1, 1}};
  const BufferLayout layout = GreedyMemoryPlanner{}.plan(buffers);
  EXPECT_EQ(layout.offsets, (std::vector<int64_t>{0, 304, 0}));
  EXPECT_EQ(layout.arena_bytes, 504);
  EXPECT_EQ(find_layout_error(buffers, layout), "");
}

TEST(GreedyMemoryPlanner, GoesAboveWhenNoGapFits) {
  const std::vector<BufferRequest> buffers = {
      {"big1", 200, 0, 2}, {"mid", 100, 0, 0}, {"big2", 200, 1, 2}, {"small", 48, 1, 1}};
  const BufferLayout layout = GreedyMemoryPlanner{}.plan(buffers);
  EXPECT_EQ(find_layout_error(buffers, layout), "");
  // big2 and mid each overlap big1 only: both at 208 (its aligned end);
  // small overlaps big1 and big2, so it goes above both.
  EXPECT_EQ(layout.offsets, (std::vector<int64_t>{0, 208, 208, 416}));
  EXPECT_EQ(layout.arena_bytes, 464);
}

TEST(GreedyMemoryPlanner, OffsetsAreAligned) {
  const std::vector<BufferRequest> buffers = {{"a", 3, 0, 1}, {"b", 5, 0, 1}, {"c", 7, 0, 1}};
  for (const int64_t alignment : {1, 4, 16}) {
    const BufferLayout layout = GreedyMemoryPlanner{alignment}.plan(buffers);
    for (const int64_t off : layout.offsets) EXPECT_EQ(off % alignment, 0);
    EXPECT_EQ(find_layout_error(buffers, layout), "");
  }
  EXPECT_EQ(GreedyMemoryPlanner{1}.plan(buffers).arena_bytes, 15);
  EXPECT_EQ(GreedyMemoryPlanner{16}.plan(buffers).arena_bytes, 32 + 3);
}

TEST(GreedyMemoryPlanner, RandomListsGiveValidLayoutsBetweenTheBounds) {
  std::mt19937 gen(7);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); };
  for (int round = 0; round < 200; ++round) {
    std::vector<BufferRequest> buffers;
    const int n = uniform(1, 30);
    for (int i = 0; i < n; ++i) {
      const int first = uniform(0, 20);
      // Appended, not "b" + to_string(i): that trips GCC 12's false -Wrestrict.
      std::string name = "b";
      name += std::to_string(i);
      buffers.push_back({name, uniform(0, 5000), first, first + uniform(0, 6)});
    }
    const BufferLayout greedy = GreedyMemoryPlanner{4}.plan(buffers);
    const BufferLayout linear = LinearMemoryPlanner{4}.plan(buffers);
    ASSERT_EQ(find_layout_error(buffers, greedy), "") << "round " << round;
    ASSERT_EQ(find_layout_error(buffers, linear), "") << "round " << round;
    EXPECT_GE(greedy.arena_bytes, peak_live_bytes(buffers));
    EXPECT_LE(greedy.arena_bytes, linear.arena_bytes);
  }
}

TEST(GreedyMemoryPlanner, IsDeterministic) {
  const std::vector<BufferRequest> buffers = {
      {"a", 64, 0, 3}, {"b", 64, 1, 2}, {"c", 64, 2, 4}, {"d", 64, 0, 4}};
  EXPECT_EQ(GreedyMemoryPlanner{}.plan(buffers).offsets,
            GreedyMemoryPlanner{}.plan(buffers).offsets);
}

TEST(LayoutChecker, FindsOverlapsAndOutOfArenaBuffers) {
  const std::vector<BufferRequest> buffers = {{"x", 100, 0, 2}, {"y", 100, 2, 3}};
  EXPECT_EQ(find_layout_error(buffers, BufferLayout{{0, 100}, 200}), "");
  EXPECT_NE(find_layout_error(buffers, BufferLayout{{0, 99}, 199}).find("'x' and 'y'"),
            std::string::npos);
  EXPECT_NE(find_layout_error(buffers, BufferLayout{{0, 150}, 200}).find("outside the arena"),
            std::string::npos);
  EXPECT_NE(find_layout_error(buffers, BufferLayout{{0}, 200}), "");
  // Disjoint lifetimes may share bytes.
  const std::vector<BufferRequest> disjoint = {{"x", 100, 0, 1}, {"y", 100, 2, 3}};
  EXPECT_EQ(find_layout_error(disjoint, BufferLayout{{0, 0}, 100}), "");
}

TEST(MemoryPlanner, RejectsMalformedRequests) {
  EXPECT_THROW(GreedyMemoryPlanner{}.plan({{"neg", -1, 0, 0}}), Error);
  EXPECT_THROW(GreedyMemoryPlanner{}.plan({{"backwards", 10, 3, 2}}), Error);
  EXPECT_THROW(GreedyMemoryPlanner{3}, Error);
}

TEST(MemoryPlanner, PeakLiveBytes) {
  EXPECT_EQ(peak_live_bytes({{"a", 10, 0, 1}, {"b", 20, 1, 2}, {"c", 5, 2, 2}}), 30);
  EXPECT_EQ(peak_live_bytes({}), 0);
}

}  // namespace
}  // namespace mcusplit::quant
