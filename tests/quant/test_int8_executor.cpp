// The single-device int8 executor on hand-built graphs: bit-identical to a
// plain evaluation without an arena, measured high water == planned arena.
#include <gtest/gtest.h>

#include <cstring>

#include "common/error.h"
#include "qgraph_builder.h"
#include "quant/int8_executor.h"

namespace mcusplit::quant {
namespace {

using testing::evaluate_without_arena;
using testing::QGraphBuilder;

// conv -> inverted residual (expand, depthwise, project, add) -> gap -> fc.
QGraph small_classifier(uint32_t seed) {
  QGraphBuilder b(seed);
  const int x = b.input({3, 17, 15});
  const int stem = b.conv(x, 8, 3, 2, 1, 1, true);
  const int expand = b.conv(stem, 24, 1, 1, 0, 1, true);
  const int dw = b.conv(expand, 24, 3, 1, 1, 24, true);
  const int project = b.conv(dw, 8, 1, 1, 0);
  const int sum = b.add(stem, project);
  const int gap = b.global_average_pool(sum);
  const int flat = b.reshape(gap, {8, 1, 1});
  return b.finish(b.fully_connected(flat, 10));
}

// Pools and a concat of three branches, then a strided depthwise conv.
QGraph pools_and_concat(uint32_t seed) {
  QGraphBuilder b(seed);
  const int x = b.input({5, 11, 9});
  const int c = b.conv(x, 6, 3, 1, 1);
  const int m = b.pool(OpType::MaxPool, c, 3, 2, 0);
  const int a = b.pool(OpType::AveragePool, c, 2, 2, 0);
  const int s = b.conv(c, 7, 3, 2, 0);
  const int cat = b.concat({m, b.conv(a, 6, 1, 1, 0), s});
  const int dw = b.conv(cat, 19, 3, 2, 1, 19, true);
  return b.finish(b.add(dw, b.conv(dw, 19, 1, 1, 0)));
}

// Two residual blocks in a row, the first Add's output feeding the second.
QGraph two_residual_blocks(uint32_t seed) {
  QGraphBuilder b(seed);
  int t = b.conv(b.input({4, 12, 12}), 16, 3, 1, 1, 1, true);
  for (int block = 0; block < 2; ++block) {
    const int e = b.conv(t, 48, 1, 1, 0, 1, true);
    const int d = b.conv(e, 48, 3, 1, 1, 48, true);
    t = b.add(t, b.conv(d, 16, 1, 1, 0));
  }
  return b.finish(b.conv(t, 20, 1, 1, 0));
}

void expect_matches_plain_evaluation(const QGraph& g, uint32_t seed) {
  Int8Executor exec(g);
  QGraphBuilder inputs(seed);
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<int8_t> in(static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()));
    std::mt19937 gen(seed * 31u + static_cast<uint32_t>(trial));
    for (auto& v : in) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
    const std::vector<int8_t> want = evaluate_without_arena(g, in);
    const std::vector<int8_t> got = exec.run(in);
    ASSERT_EQ(got, want) << "trial " << trial;
    EXPECT_EQ(exec.high_water_bytes(), exec.arena_bytes());
  }
  EXPECT_EQ(find_layout_error(exec.plan().buffers, exec.plan().layout), "");
}

TEST(Int8Executor, SmallClassifierMatchesPlainEvaluation) {
  for (uint32_t seed : {1u, 2u, 3u}) expect_matches_plain_evaluation(small_classifier(seed), seed);
}

TEST(Int8Executor, PoolsAndConcatMatchPlainEvaluation) {
  for (uint32_t seed : {4u, 5u}) expect_matches_plain_evaluation(pools_and_concat(seed), seed);
}

TEST(Int8Executor, ResidualBlocksMatchPlainEvaluation) {
  for (uint32_t seed : {6u, 7u}) expect_matches_plain_evaluation(two_residual_blocks(seed), seed);
}

TEST(Int8Executor, OutputsAreNotAllSaturated) {
  // Guards the test graphs themselves: a saturated output would hide bugs.
  const QGraph g = two_residual_blocks(8);
  Int8Executor exec(g);
  QGraphBuilder b(8);
  std::vector<int8_t> in(static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()), 0);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int8_t>((i * 37) % 256 - 128);
  const auto out = exec.run(in);
  int extremes = 0;
  for (int8_t v : out) extremes += v == -128 || v == 127;
  EXPECT_LT(extremes, static_cast<int>(out.size()) / 2);
}

TEST(Int8Executor, HighWaterIsMeasuredAndEqualsTheArena) {
  const QGraph g = small_classifier(9);
  Int8Executor exec(g);
  EXPECT_EQ(exec.high_water_bytes(), 0);  // nothing written yet
  exec.run(std::vector<int8_t>(static_cast<size_t>(g.tensors[0].bytes()), 3));
  EXPECT_EQ(exec.high_water_bytes(), exec.arena_bytes());
  EXPECT_EQ(exec.arena_bytes(), exec.plan().arena_bytes());
}

TEST(Int8Executor, StaysInsideACallerProvidedArena) {
  const QGraph g = pools_and_concat(10);
  const int64_t need = plan_arena(g).arena_bytes();
  constexpr int64_t kGuard = 256;
  constexpr int8_t kSentinel = 0x5a;
  std::vector<int8_t> memory(static_cast<size_t>(need + kGuard), kSentinel);
  Int8Executor exec(g, memory.data(), need);
  std::vector<int8_t> in(static_cast<size_t>(g.tensors[0].bytes()));
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int8_t>(i * 7);
  EXPECT_EQ(exec.run(in), evaluate_without_arena(g, in));
  for (int64_t i = need; i < need + kGuard; ++i) {
    ASSERT_EQ(memory[static_cast<size_t>(i)], kSentinel) << "wrote past the arena at " << i;
  }
  // Cross-check of the measurement: no byte above the high water changed.
  int64_t highest_changed = 0;
  for (int64_t i = 0; i < need; ++i) {
    if (memory[static_cast<size_t>(i)] != kSentinel) highest_changed = i + 1;
  }
  EXPECT_LE(highest_changed, exec.high_water_bytes());
  EXPECT_GT(highest_changed, exec.high_water_bytes() - 64);
  EXPECT_THROW(Int8Executor(g, memory.data(), need - 1), Error);
}

TEST(Int8Executor, RepeatedRunsGiveTheSameResult) {
  const QGraph g = two_residual_blocks(11);
  Int8Executor exec(g);
  std::vector<int8_t> in(static_cast<size_t>(g.tensors[0].bytes()));
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int8_t>(i * 13 + 1);
  const auto first = exec.run(in);
  exec.run(std::vector<int8_t>(in.size(), -100));
  EXPECT_EQ(exec.run(in), first);
}

TEST(Int8Executor, RunFloatQuantizesAndDequantizes) {
  const QGraph g = small_classifier(12);
  Int8Executor exec(g);
  const QTensor& in_t = g.tensors[static_cast<size_t>(g.input)];
  std::vector<float> x(static_cast<size_t>(in_t.bytes()));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 11) * 0.1f - 0.5f;
  const auto got = exec.run_float(x);
  const auto want = dequantize_output(g, evaluate_without_arena(g, quantize_input(g, x)));
  EXPECT_EQ(got, want);
  EXPECT_THROW(exec.run_float(std::vector<float>(3)), Error);
  EXPECT_THROW(exec.run(std::vector<int8_t>(3)), Error);
}

TEST(Int8Executor, RejectsInconsistentLayersByName) {
  QGraph g = small_classifier(13);
  g.layers[1].weights.pop_back();
  try {
    Int8Executor exec(g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(g.layers[1].name), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("weights"), std::string::npos) << e.what();
  }
  QGraph wrong_shape = small_classifier(13);
  wrong_shape.layers[0].conv.output.c += 1;
  EXPECT_THROW(Int8Executor{wrong_shape}, Error);
}

TEST(Int8Executor, KernelFailureNamesTheLayer) {
  QGraph g = small_classifier(14);
  g.layers[2].conv.output_zero_point = 500;  // not an int8 zero point: BadParams
  Int8Executor exec(g);
  try {
    exec.run(std::vector<int8_t>(static_cast<size_t>(g.tensors[0].bytes()), 0));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(g.layers[2].name), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad parameters"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mcusplit::quant
