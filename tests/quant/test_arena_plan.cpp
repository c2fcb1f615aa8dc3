// The arena plan of a QGraph: lifetimes, Reshape aliasing, sizes of chains.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "qgraph_builder.h"
#include "quant/arena_plan.h"

namespace mcusplit::quant {
namespace {

using testing::QGraphBuilder;

// What layer i's kernel states for its whole output: its scratch buffer.
int64_t stated_scratch(const QGraph& g, int i) {
  const QLayer& l = g.layers[static_cast<size_t>(i)];
  return l.record().scratch_bytes(l.view(),
                                  core::full_box(g.tensors[static_cast<size_t>(l.output)].shape));
}

size_t scratch_buffer_count(const ArenaPlan& plan) {
  return static_cast<size_t>(std::count_if(plan.layer_scratch.begin(), plan.layer_scratch.end(),
                                           [](int b) { return b >= 0; }));
}

TEST(ArenaPlan, ChainOfTensorsNeedsTheLargestAdjacentPair) {
  // A -> B -> C with sizes that are multiples of the 16-byte alignment.
  QGraphBuilder b(1);
  const int a = b.input({32, 8, 8});       // 2048
  const int t1 = b.conv(a, 8, 1, 1, 0);    // 512
  const int t2 = b.conv(t1, 48, 1, 1, 0);  // 3072
  const QGraph g = b.finish(t2);
  const ArenaPlan plan = plan_arena(g);
  const int64_t s0 = stated_scratch(g, 0);
  const int64_t s1 = stated_scratch(g, 1);
  ASSERT_GT(s0, 0);
  ASSERT_GT(s1, 0);
  EXPECT_EQ(plan.arena_bytes(), std::max(2048 + 512 + s0, 512 + 3072 + s1));
  EXPECT_EQ(find_layout_error(plan.buffers, plan.layout), "");
  ASSERT_EQ(plan.buffers.size(), 5u);  // three tensors, then each conv's scratch
  for (int i = 0; i < 2; ++i) {
    const BufferRequest& scratch = plan.buffers[static_cast<size_t>(plan.layer_scratch[i])];
    EXPECT_EQ(scratch.bytes, stated_scratch(g, i));
    EXPECT_EQ(scratch.first_use, i);
    EXPECT_EQ(scratch.last_use, i);
    EXPECT_EQ(plan.scratch_bytes(i), scratch.bytes);
  }
  EXPECT_EQ(plan.buffers[0].first_use, 0);
  EXPECT_EQ(plan.buffers[0].last_use, 0);
  EXPECT_EQ(plan.buffers[1].first_use, 0);
  EXPECT_EQ(plan.buffers[1].last_use, 1);
  EXPECT_EQ(plan.buffers[2].first_use, 1);
  EXPECT_EQ(plan.buffers[2].last_use, 1);
}

TEST(ArenaPlan, LongerChainReusesMemory) {
  QGraphBuilder b(2);
  int t = b.input({16, 8, 8});  // 1024
  const int widths[] = {32, 16, 64, 16, 32};
  for (int w : widths) t = b.conv(t, w, 3, 1, 1);
  const QGraph g = b.finish(t);
  const ArenaPlan plan = plan_arena(g);
  // The widest adjacent pair with its layer's scratch.
  int64_t widest_pair = 0;
  int prev = 16;
  for (int i = 0; i < 5; ++i) {
    const int w = widths[i];
    widest_pair = std::max<int64_t>(widest_pair, 64 * (prev + w) + stated_scratch(g, i));
    prev = w;
  }
  EXPECT_EQ(plan.arena_bytes(), widest_pair);
  EXPECT_EQ(peak_live_bytes(plan.buffers), widest_pair);
}

TEST(ArenaPlan, ResidualInputStaysAliveAcrossTheBlock) {
  QGraphBuilder b(3);
  const int x = b.input({16, 4, 4});
  const int e = b.conv(x, 64, 1, 1, 0);
  const int d = b.conv(e, 64, 3, 1, 1, 64);
  const int p = b.conv(d, 16, 1, 1, 0);
  const int y = b.add(x, p);
  const QGraph g = b.finish(y);
  const ArenaPlan plan = plan_arena(g);
  const BufferRequest& input =
      plan.buffers[static_cast<size_t>(plan.tensor_buffer[static_cast<size_t>(x)])];
  EXPECT_EQ(input.first_use, 0);
  EXPECT_EQ(input.last_use, 3);  // read again by the Add
  EXPECT_EQ(find_layout_error(plan.buffers, plan.layout), "");
  // Depthwise step: x, e and d are live together, with the depthwise
  // kernel's scratch.
  EXPECT_EQ(plan.live_buffers(1).size(), 4u);
  EXPECT_GE(plan.arena_bytes(), 256 + 1024 + 1024 + stated_scratch(g, 1));
  EXPECT_EQ(plan.arena_bytes(), peak_live_bytes(plan.buffers));
}

TEST(ArenaPlan, ReshapeAliasesItsInput) {
  QGraphBuilder b(4);
  const int x = b.input({8, 4, 4});
  const int gp = b.global_average_pool(x);
  const int r = b.reshape(gp, {8, 1, 1});
  const int fc = b.fully_connected(r, 5);
  const QGraph g = b.finish(fc);
  const ArenaPlan plan = plan_arena(g);
  EXPECT_EQ(plan.tensor_buffer[static_cast<size_t>(gp)],
            plan.tensor_buffer[static_cast<size_t>(r)]);
  const BufferRequest& shared =
      plan.buffers[static_cast<size_t>(plan.tensor_buffer[static_cast<size_t>(r)])];
  EXPECT_EQ(shared.first_use, 0);
  EXPECT_EQ(shared.last_use, 2);
  EXPECT_EQ(plan.buffers.size(), 3u + scratch_buffer_count(plan));
  EXPECT_EQ(find_layout_error(plan.buffers, plan.layout), "");
}

TEST(ArenaPlan, OutputLivesToTheEndAndOffsetsAreAligned) {
  QGraphBuilder b(5);
  const int x = b.input({3, 5, 7});
  const int c1 = b.conv(x, 5, 3, 2, 1);
  const int c2 = b.conv(c1, 7, 1, 1, 0);
  const QGraph g = b.finish(c1);  // c2 is computed but not the output
  (void)c2;
  const ArenaPlan plan = plan_arena(g);
  EXPECT_EQ(plan.buffers[static_cast<size_t>(plan.tensor_buffer[static_cast<size_t>(c1)])].last_use,
            1);
  for (const int64_t off : plan.layout.offsets) EXPECT_EQ(off % plan.alignment, 0);
  EXPECT_EQ(plan.alignment, 16);
  EXPECT_EQ(find_layout_error(plan.buffers, plan.layout), "");
}

TEST(ArenaPlan, RejectsMalformedGraphs) {
  QGraphBuilder b(6);
  const int x = b.input({4, 4, 4});
  const int c = b.conv(x, 4, 1, 1, 0);
  QGraph g = b.finish(c);
  {
    QGraph bad = g;
    bad.layers[0].inputs = {7};
    EXPECT_THROW(plan_arena(bad), Error);
  }
  {
    QGraph bad = g;
    bad.layers.push_back(bad.layers[0]);  // writes c twice
    EXPECT_THROW(plan_arena(bad), Error);
  }
  {
    QGraph bad = g;
    bad.output = static_cast<int>(bad.tensors.size());
    EXPECT_THROW(plan_arena(bad), Error);
  }
  {
    QGraph bad = g;
    bad.tensors.push_back(bad.tensors[0]);  // never produced
    bad.output = static_cast<int>(bad.tensors.size()) - 1;
    EXPECT_THROW(plan_arena(bad), Error);
  }
}

TEST(ArenaPlan, LinearPlannerGivesAnUpperBound) {
  QGraphBuilder b(7);
  const int x = b.input({8, 6, 6});
  const int m = b.pool(OpType::MaxPool, x, 3, 1, 1);
  const int a = b.pool(OpType::AveragePool, x, 3, 1, 1);
  const int cat = b.concat({m, a, x});
  const QGraph g = b.finish(b.conv(cat, 4, 1, 1, 0));
  const ArenaPlan greedy = plan_arena(g);
  const ArenaPlan linear = plan_arena(g, LinearMemoryPlanner{});
  EXPECT_EQ(find_layout_error(linear.buffers, linear.layout), "");
  EXPECT_LE(greedy.arena_bytes(), linear.arena_bytes());
  // Every buffer after the one before, at the next 16-byte boundary: the
  // tensors, then the scratch buffers.
  int64_t end = 0;
  for (const BufferRequest& r : linear.buffers) end = (end + 15) / 16 * 16 + r.bytes;
  EXPECT_EQ(linear.arena_bytes(), end);
  int64_t scratch = 0;
  for (int i = 0; i < static_cast<int>(g.layers.size()); ++i) scratch += stated_scratch(g, i);
  EXPECT_GE(linear.arena_bytes(), 288 * 3 + 864 + 144 + scratch);
}

}  // namespace
}  // namespace mcusplit::quant
