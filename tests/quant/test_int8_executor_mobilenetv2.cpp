// The int8 executor on quantized zoo MobileNetV2s: bit-identical to the plain
// evaluation, and the single-device arena of MobileNetV2-1.0 at 224 against
// the layer-by-layer bound of issue 3.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "qgraph_builder.h"
#include "quant/int8_executor.h"
#include "quantized_zoo.h"

namespace mcusplit::quant {
namespace {

using testing::cached_mobilenetv2;
using testing::evaluate_without_arena;

// Deterministic: the plan depends only on the tensor shapes and layer order.
// Equal to the layer-by-layer peak plus that layer's kernel scratch: the
// greedy layout loses nothing to fragmentation here, no residual is alive at
// block 2's depthwise layer, and its packed kernel states 2,368 bytes (3x3
// weights, sums and requantization of 64-channel blocks).
constexpr int64_t kMobileNetV2ArenaBytes = 1'505'280 + 2'368;

std::vector<int8_t> pattern_input(const QGraph& g, int salt) {
  std::vector<int8_t> in(static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()));
  for (size_t i = 0; i < in.size(); ++i) {
    in[i] = static_cast<int8_t>((i * 2654435761u + static_cast<size_t>(salt)) >> 24);
  }
  return in;
}

// int8 bytes a layer reads and writes (each distinct input once).
int64_t layer_io_bytes(const QGraph& g, const QLayer& l) {
  const std::set<int> ins(l.inputs.begin(), l.inputs.end());
  int64_t bytes = g.tensors[static_cast<size_t>(l.output)].bytes();
  for (int t : ins) bytes += g.tensors[static_cast<size_t>(t)].bytes();
  return bytes;
}

TEST(Int8ExecutorMobileNetV2, SmallModelMatchesPlainEvaluation) {
  const QGraph& g = cached_mobilenetv2(0.35f, 64, 10);
  Int8Executor exec(g);
  for (int salt : {0, 1}) {
    const auto in = pattern_input(g, salt);
    ASSERT_EQ(exec.run(in), evaluate_without_arena(g, in)) << "salt " << salt;
    EXPECT_EQ(exec.high_water_bytes(), exec.arena_bytes());
  }
  EXPECT_EQ(find_layout_error(exec.plan().buffers, exec.plan().layout), "");
}

TEST(Int8ExecutorMobileNetV2, ArenaAt224WithinTheLayerByLayerBound) {
  const QGraph& g = cached_mobilenetv2(1.0f, 224, 1000);
  Int8Executor exec(g);
  const ArenaPlan& plan = exec.plan();
  ASSERT_EQ(find_layout_error(plan.buffers, plan.layout), "");

  // The layer with the largest input + output (layer-by-layer execution's
  // peak, 1,505,280 bytes: block 2's 112x112x96 expansion and its 56x56x96
  // depthwise output), and the largest tensor kept alive across it (a
  // residual input waiting for its Add).
  size_t peak_layer = 0;
  int64_t peak_io = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const int64_t io = layer_io_bytes(g, g.layers[i]);
    if (io > peak_io) {
      peak_io = io;
      peak_layer = i;
    }
  }
  EXPECT_EQ(peak_io, 1'505'280);
  const QLayer& peak = g.layers[peak_layer];
  std::set<int> own_buffers = {plan.tensor_buffer[static_cast<size_t>(peak.output)],
                               plan.layer_scratch[peak_layer]};
  for (int t : peak.inputs) own_buffers.insert(plan.tensor_buffer[static_cast<size_t>(t)]);
  int64_t largest_residual = 0;
  for (int b : plan.live_buffers(static_cast<int>(peak_layer))) {
    if (own_buffers.count(b) == 0) {
      largest_residual = std::max(largest_residual, plan.buffers[static_cast<size_t>(b)].bytes);
    }
  }
  EXPECT_EQ(plan.scratch_bytes(static_cast<int>(peak_layer)), 2'368);
  const int64_t bound =
      peak_io + largest_residual + plan.scratch_bytes(static_cast<int>(peak_layer));
  EXPECT_LE(exec.arena_bytes(), bound) << "peak layer " << peak.name;
  EXPECT_EQ(largest_residual, 0) << "peak layer " << peak.name;
  EXPECT_GE(exec.arena_bytes(), peak_live_bytes(plan.buffers));
  EXPECT_EQ(exec.arena_bytes(), kMobileNetV2ArenaBytes);

  const auto in = pattern_input(g, 3);
  const auto out = exec.run(in);
  EXPECT_EQ(exec.high_water_bytes(), exec.arena_bytes());
  EXPECT_EQ(out.size(), 1000u);
}

}  // namespace
}  // namespace mcusplit::quant
