// Whole models through the float executor: the standard passes (BN folding,
// activation folding, Identity removal) must not change the results.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "model/float_executor.h"
#include "model/onnx_import.h"
#include "model/passes.h"
#include "model/zoo_mobilenetv2.h"

namespace mcusplit::model {
namespace {

// Largest |a - b| / (1 + |b|) over all outputs; shapes must agree.
float max_relative_error(const std::vector<FloatTensor>& got,
                         const std::vector<FloatTensor>& want) {
  EXPECT_EQ(got.size(), want.size());
  float worst = 0.0f;
  for (size_t o = 0; o < got.size() && o < want.size(); ++o) {
    EXPECT_EQ(got[o].shape, want[o].shape);
    for (size_t i = 0; i < got[o].data.size() && i < want[o].data.size(); ++i) {
      const float a = got[o].data[i];
      const float b = want[o].data[i];
      worst = std::max(worst, std::fabs(a - b) / (1.0f + std::fabs(b)));
    }
  }
  return worst;
}

FloatTensor pseudo_random(Dims dims, uint32_t seed) {
  FloatTensor t(std::move(dims));
  for (float& v : t.data) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<float>(seed >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return t;
}

// x -> Conv -> BN -> Relu -> Identity -> Add(x) -> Clip(0, 6): every pass has
// something to fold.
Graph residual_block() {
  Graph g;
  const int x = g.add_tensor({"x", {1, 2, 4, 4}, {}, false});
  const int w = g.add_tensor({"w", {2, 2, 3, 3}, pseudo_random({2, 2, 3, 3}, 1).data, true});
  const int scale = g.add_tensor({"scale", {2}, {1.5f, 0.5f}, true});
  const int bias = g.add_tensor({"bias", {2}, {0.1f, -0.2f}, true});
  const int mean = g.add_tensor({"mean", {2}, {0.05f, -0.1f}, true});
  const int var = g.add_tensor({"var", {2}, {0.8f, 1.3f}, true});
  const int conv_out = g.add_tensor({"conv_out", {1, 2, 4, 4}, {}, false});
  const int bn_out = g.add_tensor({"bn_out", {1, 2, 4, 4}, {}, false});
  const int relu_out = g.add_tensor({"relu_out", {1, 2, 4, 4}, {}, false});
  const int id_out = g.add_tensor({"id_out", {1, 2, 4, 4}, {}, false});
  const int add_out = g.add_tensor({"add_out", {1, 2, 4, 4}, {}, false});
  const int y = g.add_tensor({"y", {1, 2, 4, 4}, {}, false});

  Node conv;
  conv.name = "conv";
  conv.op = OpType::Conv;
  conv.conv.window.kernel = {3, 3};
  conv.conv.window.pads = {1, 1, 1, 1};
  conv.inputs = {x, w};
  conv.outputs = {conv_out};
  Node bn;
  bn.name = "bn";
  bn.op = OpType::BatchNormalization;
  bn.inputs = {conv_out, scale, bias, mean, var};
  bn.outputs = {bn_out};
  Node relu;
  relu.name = "relu";
  relu.op = OpType::Relu;
  relu.inputs = {bn_out};
  relu.outputs = {relu_out};
  Node identity;
  identity.name = "identity";
  identity.op = OpType::Identity;
  identity.inputs = {relu_out};
  identity.outputs = {id_out};
  Node add;
  add.name = "add";
  add.op = OpType::Add;
  add.inputs = {id_out, x};
  add.outputs = {add_out};
  Node clip;
  clip.name = "clip";
  clip.op = OpType::Clip;
  clip.clip.min = 0.0f;
  clip.clip.max = 6.0f;
  clip.inputs = {add_out};
  clip.outputs = {y};
  g.nodes = {conv, bn, relu, identity, add, clip};
  g.inputs = {x};
  g.outputs = {y};
  return g;
}

TEST(FloatExecutorModels, StandardPassesKeepResidualBlockResults) {
  Graph g = residual_block();
  const std::vector<FloatTensor> inputs = {pseudo_random({1, 2, 4, 4}, 7)};
  const auto reference = run_graph(g, inputs);
  const size_t nodes_before = g.nodes.size();
  run_standard_passes(g);
  EXPECT_LT(g.nodes.size(), nodes_before);
  EXPECT_LE(max_relative_error(run_graph(g, inputs), reference), 1e-5f);
}

TEST(FloatExecutorModels, MobileNetV2RunsQuicklyAndPassesKeepResults) {
  std::string bytes;
  ASSERT_TRUE(make_mobilenetv2(MobileNetV2Options{}).SerializeToString(&bytes));
  Graph graph = import_onnx_bytes(bytes, "zoo:mobilenetv2");
  const std::vector<FloatTensor> inputs = {pseudo_random({1, 3, 224, 224}, 3)};

  const auto start = std::chrono::steady_clock::now();
  const auto reference = run_graph(graph, inputs);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "MobileNetV2 1.0@224 float reference: " << seconds << " s\n";
  ASSERT_EQ(reference.size(), 1u);
  EXPECT_EQ(reference[0].shape, (Dims{1, 1000}));
  for (float v : reference[0].data) ASSERT_TRUE(std::isfinite(v));

  run_standard_passes(graph);
  EXPECT_LE(max_relative_error(run_graph(graph, inputs), reference), 1e-3f);
}

TEST(FloatExecutorModels, BatchOfTwoMatchesItemByItem) {
  const Graph g = residual_block();
  const FloatTensor a = pseudo_random({1, 2, 4, 4}, 11);
  const FloatTensor b = pseudo_random({1, 2, 4, 4}, 12);
  FloatTensor both({2, 2, 4, 4});
  std::copy(a.data.begin(), a.data.end(), both.data.begin());
  std::copy(b.data.begin(), b.data.end(), both.data.begin() + static_cast<long>(a.data.size()));
  const auto stacked = run_graph(g, {both});
  const auto first = run_graph(g, {a});
  const auto second = run_graph(g, {b});
  ASSERT_EQ(stacked[0].shape, (Dims{2, 2, 4, 4}));
  std::vector<float> expected = first[0].data;
  expected.insert(expected.end(), second[0].data.begin(), second[0].data.end());
  EXPECT_EQ(stacked[0].data, expected);
}

}  // namespace
}  // namespace mcusplit::model
