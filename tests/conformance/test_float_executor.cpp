// evaluate_node and run_graph on small hand-built graphs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "model/float_executor.h"

namespace mcusplit::model {
namespace {

std::vector<FloatTensor> eval(const Node& node, const std::vector<FloatTensor>& values) {
  Graph graph;  // only Reshape without a shape operand reads the graph
  std::vector<const FloatTensor*> inputs;
  for (const FloatTensor& v : values) inputs.push_back(&v);
  return evaluate_node(graph, node, inputs);
}

FloatTensor ramp(Dims dims, float start = 1.0f) {
  FloatTensor t(std::move(dims));
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = start + static_cast<float>(i);
  return t;
}

TEST(EvaluateNode, ConvStridePadGroupsAndFusedRelu) {
  Node node;
  node.op = OpType::Conv;
  node.conv.window.kernel = {2, 2};
  node.conv.window.strides = {2, 2};
  node.conv.window.pads = {1, 1, 0, 0};
  node.conv.group = 2;
  node.activation.kind = FusedActivation::Kind::Relu;
  node.activation.min = 0.0f;
  // Two channels 4x4 (1..16 and 17..32), depthwise kernels [1,0;0,1] and
  // [-1,0;0,0], bias {1, 0}.
  FloatTensor x = ramp({1, 2, 4, 4});
  FloatTensor w({2, 1, 2, 2}, {1, 0, 0, 1, -1, 0, 0, 0});
  FloatTensor b({2}, {1, 0});
  auto out = eval(node, {x, w, b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape, (Dims{1, 2, 2, 2}));
  // Channel 0, window origins (-1,-1),(-1,1),(1,-1),(1,1) over 1..16:
  // 1+1, 3+1, 9+1, 6+11+1. Channel 1 is negative everywhere except where the
  // tap sits in padding (0); Relu clamps the rest to 0.
  EXPECT_EQ(out[0].data, (std::vector<float>{2, 4, 10, 18, 0, 0, 0, 0}));
}

TEST(EvaluateNode, AddBroadcastsBothWays) {
  Node node;
  node.op = OpType::Add;
  auto out = eval(node, {FloatTensor({2, 1}, {1, 2}), FloatTensor({3}, {10, 20, 30})});
  EXPECT_EQ(out[0].shape, (Dims{2, 3}));
  EXPECT_EQ(out[0].data, (std::vector<float>{11, 21, 31, 12, 22, 32}));
  node.activation = {FusedActivation::Kind::Clip, 0.0f, 25.0f};
  out = eval(node, {FloatTensor({2, 1}, {1, 2}), FloatTensor({3}, {10, 20, 30})});
  EXPECT_EQ(out[0].data, (std::vector<float>{11, 21, 25, 12, 22, 25}));
}

TEST(EvaluateNode, MatMulBatchBroadcastAndVectors) {
  Node node;
  node.op = OpType::MatMul;
  // [2,1,2] x [2,1] -> [2,1,1]
  auto out = eval(node, {ramp({2, 1, 2}), FloatTensor({2, 1}, {10, 1})});
  EXPECT_EQ(out[0].shape, (Dims{2, 1, 1}));
  EXPECT_EQ(out[0].data, (std::vector<float>{12, 34}));
  // [2] x [2,3] -> [3]
  out = eval(node, {FloatTensor({2}, {1, 2}), ramp({2, 3})});
  EXPECT_EQ(out[0].shape, (Dims{3}));
  EXPECT_EQ(out[0].data, (std::vector<float>{9, 12, 15}));
}

TEST(EvaluateNode, GemmTransBWithColumnBias) {
  Node node;
  node.op = OpType::Gemm;
  node.gemm.trans_b = true;
  node.gemm.alpha = 2.0f;
  // A [1,2], B stored [3,2], C [1,3].
  auto out =
      eval(node, {FloatTensor({1, 2}, {1, 2}), ramp({3, 2}), FloatTensor({1, 3}, {1, 2, 3})});
  EXPECT_EQ(out[0].shape, (Dims{1, 3}));
  // A*B^T = [5, 11, 17] -> *2 + C
  EXPECT_EQ(out[0].data, (std::vector<float>{11, 24, 37}));
}

TEST(EvaluateNode, PoolCeilModeShape) {
  Node node;
  node.op = OpType::MaxPool;
  node.pool.window.kernel = {3, 3};
  node.pool.window.strides = {2, 2};
  node.pool.ceil_mode = true;
  auto out = eval(node, {ramp({1, 1, 4, 4})});
  EXPECT_EQ(out[0].shape, (Dims{1, 1, 2, 2}));
  EXPECT_EQ(out[0].data, (std::vector<float>{11, 12, 15, 16}));
}

TEST(EvaluateNode, BatchNormInferenceFormula) {
  Node node;
  node.op = OpType::BatchNormalization;
  node.batch_norm.epsilon = 0.0f;
  auto out =
      eval(node, {FloatTensor({1, 2, 1, 2}, {1, 3, 2, 4}), FloatTensor({2}, {2, 1}),
                  FloatTensor({2}, {1, 0}), FloatTensor({2}, {1, 2}), FloatTensor({2}, {4, 1})});
  EXPECT_EQ(out[0].data, (std::vector<float>{1, 3, 0, 2}));
}

TEST(EvaluateNode, ShapeOperators) {
  Node reshape;
  reshape.op = OpType::Reshape;
  auto out = eval(reshape, {ramp({2, 3, 4}), FloatTensor({2}, {0, -1})});
  EXPECT_EQ(out[0].shape, (Dims{2, 12}));

  Node flatten;
  flatten.op = OpType::Flatten;
  flatten.axis.axis = 2;
  out = eval(flatten, {ramp({2, 3, 4, 5})});
  EXPECT_EQ(out[0].shape, (Dims{6, 20}));

  Node concat;
  concat.op = OpType::Concat;
  concat.axis.axis = 1;
  out = eval(concat, {FloatTensor({2, 1}, {1, 2}), FloatTensor({2, 2}, {3, 4, 5, 6})});
  EXPECT_EQ(out[0].shape, (Dims{2, 3}));
  EXPECT_EQ(out[0].data, (std::vector<float>{1, 3, 4, 2, 5, 6}));

  Node mean;
  mean.op = OpType::ReduceMean;
  mean.reduce.axes = {1};
  mean.reduce.keepdims = false;
  out = eval(mean, {ramp({2, 3, 2})});
  EXPECT_EQ(out[0].shape, (Dims{2, 2}));
  EXPECT_EQ(out[0].data, (std::vector<float>{3, 4, 9, 10}));

  Node gap;
  gap.op = OpType::GlobalAveragePool;
  out = eval(gap, {ramp({1, 2, 2, 2})});
  EXPECT_EQ(out[0].shape, (Dims{1, 2, 1, 1}));
  EXPECT_EQ(out[0].data, (std::vector<float>{2.5, 6.5}));
}

// x [1, 2] -> Relu -> Add(bias) -> y
Graph relu_add_graph() {
  Graph g;
  const int x = g.add_tensor({"x", {1, 2}, {}, false});
  const int r = g.add_tensor({"r", {1, 2}, {}, false});
  const int bias = g.add_tensor({"bias", {2}, {10, 20}, true});
  const int y = g.add_tensor({"y", {1, 2}, {}, false});
  Node relu;
  relu.name = "relu";
  relu.op = OpType::Relu;
  relu.inputs = {x};
  relu.outputs = {r};
  Node add;
  add.name = "add";
  add.op = OpType::Add;
  add.inputs = {r, bias};
  add.outputs = {y};
  g.nodes = {relu, add};
  g.inputs = {x};
  g.outputs = {y};
  return g;
}

TEST(RunGraph, RunsNodesInOrder) {
  auto out = run_graph(relu_add_graph(), {FloatTensor({1, 2}, {-1, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, (std::vector<float>{10, 22}));
}

TEST(RunGraph, StacksABatchItemByItem) {
  auto out = run_graph(relu_add_graph(), {FloatTensor({3, 2}, {-1, 2, 3, -4, 5, 6})});
  EXPECT_EQ(out[0].shape, (Dims{3, 2}));
  EXPECT_EQ(out[0].data, (std::vector<float>{10, 22, 13, 20, 15, 26}));
}

std::string error_of(const Graph& g, const std::vector<FloatTensor>& inputs) {
  try {
    run_graph(g, inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RunGraph, RejectsWrongInputsWithClearMessages) {
  const Graph g = relu_add_graph();
  EXPECT_EQ(error_of(g, {}), "graph expects 1 input(s), got 0");
  EXPECT_EQ(error_of(g, {FloatTensor({1, 3}, {1, 2, 3})}),
            "input 'x': expected [1, 2], got [1, 3]");
  EXPECT_EQ(error_of(g, {FloatTensor({2, 3})}), "input 'x': expected [1, 2], got [2, 3]");
}

TEST(RunGraph, ReportsShapeDisagreementWithTheGraph) {
  Graph g = relu_add_graph();
  g.tensors[3].shape = {2, 1};
  EXPECT_EQ(error_of(g, {FloatTensor({1, 2}, {1, 2})}),
            "node 'add' (Add): output 'y' computed as [1, 2] but declared [2, 1]");
}

}  // namespace
}  // namespace mcusplit::model
