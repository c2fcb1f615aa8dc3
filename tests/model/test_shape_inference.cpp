// Shape inference on hand-built IR graphs.
#include <gtest/gtest.h>

#include "model/error_matchers.h"
#include "model/graph.h"
#include "model/shape_inference.h"

namespace mcusplit::model {
namespace {

using onnx_test::expect_error;

int add(Graph& g, const std::string& name, Dims shape, bool constant = false,
        std::vector<float> data = {}) {
  return g.add_tensor({name, std::move(shape), std::move(data), constant});
}

Node node(OpType op, std::vector<int> inputs, int output, const std::string& name = "n") {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  n.outputs = {output};
  return n;
}

Dims pool_out(Dims in, std::array<int64_t, 2> k, std::array<int64_t, 2> s,
              std::array<int64_t, 4> pads, bool ceil_mode) {
  Graph g;
  const int x = add(g, "x", std::move(in));
  Node n = node(OpType::MaxPool, {x}, add(g, "y", {}));
  n.pool.window = {k, s, pads};
  n.pool.ceil_mode = ceil_mode;
  return infer_node_output_shapes(g, n).at(0);
}

TEST(ShapeInference, PoolOutputSizes) {
  EXPECT_EQ(pool_out({1, 2, 5, 5}, {2, 2}, {2, 2}, {0, 0, 0, 0}, false), (Dims{1, 2, 2, 2}));
  EXPECT_EQ(pool_out({1, 2, 5, 5}, {2, 2}, {2, 2}, {0, 0, 0, 0}, true), (Dims{1, 2, 3, 3}));
  // The last ceil_mode window would start in the trailing padding: dropped.
  EXPECT_EQ(pool_out({1, 1, 5, 5}, {2, 2}, {2, 2}, {1, 1, 1, 1}, true), (Dims{1, 1, 3, 3}));
  EXPECT_EQ(pool_out({1, 1, 112, 112}, {3, 3}, {2, 2}, {1, 1, 1, 1}, false), (Dims{1, 1, 56, 56}));
  EXPECT_EQ(pool_out({1, 1, 7, 9}, {7, 3}, {1, 3}, {0, 0, 0, 0}, true), (Dims{1, 1, 1, 3}));
}

TEST(ShapeInference, KernelLargerThanInputFails) {
  expect_error(
      [] {
        pool_out({1, 1, 2, 2}, {3, 3}, {1, 1}, {0, 0, 0, 0}, false);
      },
      {"node 'n'", "MaxPool", "larger"});
}

TEST(ShapeInference, ConvStridedPadded) {
  Graph g;
  const int x = add(g, "x", {1, 3, 224, 224});
  const int w = add(g, "w", {32, 3, 3, 3}, true);
  const int b = add(g, "b", {32}, true);
  Node n = node(OpType::Conv, {x, w, b}, add(g, "y", {}));
  n.conv.window = {{3, 3}, {2, 2}, {0, 0, 1, 1}};
  EXPECT_EQ(infer_node_output_shapes(g, n).at(0), (Dims{1, 32, 112, 112}));
  n.inputs[2] = add(g, "bad_bias", {16}, true);
  expect_error([&] { infer_node_output_shapes(g, n); }, {"bias", "[16]"});
}

TEST(ShapeInference, ConvGroupMustDivideChannels) {
  Graph g;
  const int x = add(g, "x", {1, 6, 4, 4});
  const int w = add(g, "w", {4, 2, 1, 1}, true);
  Node n = node(OpType::Conv, {x, w}, add(g, "y", {}), "grouped");
  n.conv.window.kernel = {1, 1};
  n.conv.group = 3;
  expect_error([&] { infer_node_output_shapes(g, n); }, {"'grouped'", "group 3"});
}

TEST(ShapeInference, MatMulVectorsAndBatches) {
  auto matmul = [](Dims a, Dims b) {
    Graph g;
    const int ia = add(g, "a", std::move(a));
    const int ib = add(g, "b", std::move(b));
    return infer_node_output_shapes(g, node(OpType::MatMul, {ia, ib}, add(g, "y", {}))).at(0);
  };
  EXPECT_EQ(matmul({3}, {3}), (Dims{}));
  EXPECT_EQ(matmul({3}, {3, 4}), (Dims{4}));
  EXPECT_EQ(matmul({2, 3}, {3}), (Dims{2}));
  EXPECT_EQ(matmul({5, 2, 3}, {3, 4}), (Dims{5, 2, 4}));
  EXPECT_EQ(matmul({1, 2, 3}, {7, 3, 4}), (Dims{7, 2, 4}));
  expect_error([&] { matmul({2, 3}, {4, 5}); }, {"cannot be multiplied"});
}

TEST(ShapeInference, GemmWithBroadcastC) {
  Graph g;
  const int a = add(g, "a", {1, 16});
  const int b = add(g, "b", {10, 16}, true);
  const int c = add(g, "c", {10}, true);
  Node n = node(OpType::Gemm, {a, b, c}, add(g, "y", {}));
  n.gemm.trans_b = true;
  EXPECT_EQ(infer_node_output_shapes(g, n).at(0), (Dims{1, 10}));
  n.gemm.trans_b = false;
  expect_error([&] { infer_node_output_shapes(g, n); }, {"inner dimensions"});
}

TEST(ShapeInference, ReshapeAndConcatAndGlobalPool) {
  Graph g;
  const int x = add(g, "x", {1, 8, 2, 2});
  const int s = add(g, "s", {2}, true, {0, -1});
  const int r = add(g, "r", {});
  const int p = add(g, "p", {});
  const int q = add(g, "q", {1, 8, 3, 2});
  const int c = add(g, "c", {});
  g.nodes.push_back(node(OpType::Reshape, {x, s}, r));
  g.nodes.push_back(node(OpType::GlobalAveragePool, {x}, p));
  Node cat = node(OpType::Concat, {x, q}, c);
  cat.axis.axis = 2;
  g.nodes.push_back(cat);
  infer_shapes(g);
  EXPECT_EQ(g.tensors[static_cast<size_t>(r)].shape, (Dims{1, 32}));
  EXPECT_EQ(g.tensors[static_cast<size_t>(p)].shape, (Dims{1, 8, 1, 1}));
  EXPECT_EQ(g.tensors[static_cast<size_t>(c)].shape, (Dims{1, 8, 5, 2}));

  g.nodes[2].axis.axis = 1;
  expect_error([&] { infer_shapes(g); }, {"differ outside axis 1"});
  g.tensors[static_cast<size_t>(s)].data = {3, -1};
  expect_error([&] { infer_shapes(g); }, {"cannot reshape"});
}

}  // namespace
}  // namespace mcusplit::model
