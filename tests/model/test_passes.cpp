// Graph passes: structure after each pass, and the same outputs before and
// after (evaluated with the float executor).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "model/float_executor.h"
#include "model/graph.h"
#include "model/onnx_builder.h"
#include "model/passes.h"

namespace mcusplit::model {
namespace {

using onnx_test::OnnxBuilder;
using onnx_test::ramp;
using onnx_test::tensor_named;

constexpr float kInf = std::numeric_limits<float>::infinity();

FloatTensor input_for(const Graph& g, size_t i = 0) {
  const Tensor& t = g.tensors[static_cast<size_t>(g.inputs.at(i))];
  return FloatTensor(t.shape, ramp(static_cast<size_t>(element_count(t.shape)), 0.37f, -2.0f));
}

void expect_same_outputs(const Graph& before, const Graph& after, float tolerance = 1e-5f) {
  std::vector<FloatTensor> inputs;
  for (size_t i = 0; i < before.inputs.size(); ++i) inputs.push_back(input_for(before, i));
  const auto a = run_graph(before, inputs);
  const auto b = run_graph(after, inputs);
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].shape, b[k].shape);
    for (size_t i = 0; i < a[k].data.size(); ++i) {
      EXPECT_NEAR(a[k].data[i], b[k].data[i], tolerance * (1.0f + std::fabs(a[k].data[i])))
          << "output " << k << " element " << i;
    }
  }
}

int count(const Graph& g, OpType op) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op == op;
  return n;
}

TEST(DropIdentity, RewiresConsumers) {
  OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.node("Identity", {"x"}, {"i"});
  b.node("Dropout", {"i"}, {"d"});
  b.node("Relu", {"d"}, {"y"});
  b.output("y");
  Graph g = b.import();
  drop_identity_and_dropout(g);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpType::Relu);
  EXPECT_EQ(g.nodes[0].inputs[0], g.find_tensor("x"));
}

TEST(DropIdentity, GraphOutputKeepsItsName) {
  OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"r"});
  b.node("Add", {"r", "r"}, {"side"});
  b.node("Identity", {"r"}, {"y"});
  b.output("y").output("side");
  const Graph before = b.import();
  Graph g = before;
  drop_identity_and_dropout(g);
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.outputs[0])].name, "y");
  EXPECT_EQ(g.producer_of(g.outputs[0]), 0);
  EXPECT_EQ(g.nodes[1].inputs[0], g.outputs[0]);  // Add now reads "y"
  expect_same_outputs(before, g);
}

TEST(DropIdentity, KeepsCopyOfGraphInput) {
  OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.node("Identity", {"x"}, {"y"});
  b.output("y");
  Graph g = b.import();
  drop_identity_and_dropout(g);
  EXPECT_EQ(g.nodes.size(), 1u);
}

OnnxBuilder conv_bn_relu(bool conv_bias) {
  OnnxBuilder b(13);
  b.input("x", {1, 2, 5, 5}).initializer("w", {3, 2, 3, 3}, ramp(54));
  b.initializer("gamma", {3}, {1.5f, 0.5f, -1.0f})
      .initializer("beta", {3}, {0.1f, -0.2f, 0.3f})
      .initializer("mean", {3}, {0.05f, -0.4f, 0.2f})
      .initializer("var", {3}, {0.9f, 2.0f, 0.25f});
  std::vector<std::string> conv_inputs{"x", "w"};
  if (conv_bias) {
    b.initializer("cb", {3}, {0.3f, -0.1f, 0.0f});
    conv_inputs.push_back("cb");
  }
  b.node("Conv", conv_inputs, {"c"}, "conv").ints("pads", {1, 1, 1, 1});
  b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"bn"}, "bn")
      .f("epsilon", 1e-3f);
  b.node("Relu", {"bn"}, {"y"}, "relu");
  b.output("y");
  return b;
}

TEST(FoldBatchNorm, WeightsMatchHandComputation) {
  for (bool conv_bias : {false, true}) {
    SCOPED_TRACE(conv_bias);
    const Graph before = conv_bn_relu(conv_bias).import();
    Graph g = before;
    fold_batch_norm_into_conv(g);
    ASSERT_EQ(g.nodes.size(), 2u);
    EXPECT_EQ(g.nodes[0].op, OpType::Conv);
    EXPECT_EQ(g.tensors[static_cast<size_t>(g.nodes[0].outputs[0])].name, "bn");

    const std::vector<float> gamma{1.5f, 0.5f, -1.0f}, beta{0.1f, -0.2f, 0.3f},
        mean{0.05f, -0.4f, 0.2f}, var{0.9f, 2.0f, 0.25f};
    const std::vector<float> w0 = ramp(54);
    const std::vector<float> b0 =
        conv_bias ? std::vector<float>{0.3f, -0.1f, 0.0f} : std::vector<float>{0, 0, 0};
    const Tensor& w = g.tensors[static_cast<size_t>(g.nodes[0].inputs[1])];
    const Tensor& bias = g.tensors[static_cast<size_t>(g.nodes[0].inputs[2])];
    ASSERT_EQ(bias.shape, (Dims{3}));
    for (size_t m = 0; m < 3; ++m) {
      const float s = gamma[m] / std::sqrt(var[m] + 1e-3f);
      for (size_t k = 0; k < 18; ++k) EXPECT_EQ(w.data[m * 18 + k], w0[m * 18 + k] * s);
      EXPECT_EQ(bias.data[m], (b0[m] - mean[m]) * s + beta[m]);
    }
    expect_same_outputs(before, g);
  }
}

TEST(FoldBatchNorm, SkipsConvWithOtherConsumers) {
  OnnxBuilder b = conv_bn_relu(true);
  b.node("Relu", {"c"}, {"other"});
  b.output("other");
  Graph g = b.import();
  fold_batch_norm_into_conv(g);
  EXPECT_EQ(count(g, OpType::BatchNormalization), 1);
}

TEST(FoldBatchNorm, SharedWeightsAreCopied) {
  OnnxBuilder b = conv_bn_relu(true);
  b.node("Conv", {"x", "w"}, {"c2"}, "conv2").ints("pads", {1, 1, 1, 1});
  b.output("c2");
  const Graph before = b.import();
  Graph g = before;
  fold_batch_norm_into_conv(g);
  EXPECT_EQ(count(g, OpType::BatchNormalization), 0);
  EXPECT_EQ(tensor_named(g, "w").data, ramp(54));  // conv2 still reads the original
  EXPECT_NE(g.nodes[0].inputs[1], g.find_tensor("w"));
  expect_same_outputs(before, g);
}

TEST(FoldActivations, ConvBnReluBecomesOneConv) {
  const Graph before = conv_bn_relu(false).import();
  Graph g = before;
  run_standard_passes(g);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpType::Conv);
  EXPECT_EQ(g.nodes[0].activation.kind, FusedActivation::Kind::Relu);
  EXPECT_EQ(g.nodes[0].activation.min, 0.0f);
  EXPECT_EQ(g.nodes[0].activation.max, kInf);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.outputs[0])].name, "y");
  // Unused tensors (the BN parameters, the old conv output) are gone.
  EXPECT_LT(g.find_tensor("gamma"), 0);
  EXPECT_LT(g.find_tensor("c"), 0);
  expect_same_outputs(before, g);
}

TEST(FoldActivations, ComposesClampsWhenRepresentable) {
  OnnxBuilder b(13);
  b.input("x", {1, 4}).initializer("w", {4, 3}, ramp(12, 1.0f, -6.0f));
  b.initializer("lo", {}, {-1.0f}).initializer("hi", {}, {6.0f}).initializer("hi2", {}, {3.0f});
  b.node("MatMul", {"x", "w"}, {"m"});
  b.node("Relu", {"m"}, {"r"});
  b.node("Clip", {"r", "lo", "hi"}, {"c"});
  b.node("Clip", {"c", "", "hi2"}, {"y"});
  b.output("y");
  const Graph before = b.import();
  Graph g = before;
  fold_activations(g);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].activation.kind, FusedActivation::Kind::Clip);
  EXPECT_EQ(g.nodes[0].activation.min, 0.0f);
  EXPECT_EQ(g.nodes[0].activation.max, 3.0f);
  expect_same_outputs(before, g);
}

TEST(FoldActivations, DisjointClampsStaySeparate) {
  OnnxBuilder b(13);
  b.input("x", {1, 4}).input("z", {1, 4});
  b.initializer("lo", {}, {5.0f}).initializer("hi", {}, {6.0f}).initializer("hi2", {}, {1.0f});
  b.node("Add", {"x", "z"}, {"a"});
  b.node("Clip", {"a", "lo", "hi"}, {"c"});  // [5, 6]
  b.node("Clip", {"c", "", "hi2"}, {"y"});   // then <= 1: constant 1, not one clamp
  b.output("y");
  const Graph before = b.import();
  Graph g = before;
  fold_activations(g);
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].activation.min, 5.0f);
  EXPECT_EQ(g.nodes[1].op, OpType::Clip);
  expect_same_outputs(before, g);
}

TEST(FoldActivations, SkipsSharedOrOutputProducers) {
  OnnxBuilder b(13);
  b.input("x", {1, 4}).input("z", {1, 4});
  b.node("Add", {"x", "z"}, {"a"});
  b.node("Relu", {"a"}, {"r"});
  b.node("Add", {"x", "z"}, {"a2"});
  b.node("Relu", {"a2"}, {"r2"});
  b.output("r").output("a").output("r2");
  Graph g = b.import();
  fold_activations(g);
  EXPECT_EQ(count(g, OpType::Relu), 1);  // "a" is a graph output; "a2" is not
  EXPECT_EQ(g.nodes[0].activation.kind, FusedActivation::Kind::None);
  EXPECT_EQ(g.nodes[2].activation.kind, FusedActivation::Kind::Relu);
}

TEST(FoldConstants, EvaluatesConstantSubgraphs) {
  OnnxBuilder b(13);
  b.input("x", {1, 6});
  b.initializer("w", {2, 3}, ramp(6)).initializer("w_add", {2, 3}, ramp(6, 0.5f, 1.0f));
  b.int64_initializer("shape", {2}, {6, 1});
  b.node("Add", {"w", "w_add"}, {"w_sum"});
  b.node("Reshape", {"w_sum", "shape"}, {"w_col"});
  b.node("MatMul", {"x", "w_col"}, {"y"});
  b.output("y");
  const Graph before = b.import();
  Graph g = before;
  fold_constants(g);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Tensor& w = tensor_named(g, "w_col");
  EXPECT_TRUE(w.is_constant);
  EXPECT_EQ(w.shape, (Dims{6, 1}));
  const std::vector<float> a = ramp(6), c = ramp(6, 0.5f, 1.0f);
  for (size_t i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(w.data[i], a[i] + c[i]);
  expect_same_outputs(before, g);
}

TEST(StandardPasses, SmallNetworkKeepsOutputs) {
  OnnxBuilder b(11);
  b.input("x", {1, 3, 8, 8}).initializer("w1", {4, 3, 3, 3}, ramp(108));
  b.initializer("g", {4}, {1, 2, 3, 4}).initializer("be", {4}, {0, 1, 0, 1});
  b.initializer("mu", {4}, {0.1f, 0.2f, 0.3f, 0.4f}).initializer("va", {4}, {1, 2, 3, 4});
  b.initializer("w2", {4, 1, 3, 3}, ramp(36)).initializer("lo", {}, {0}).initializer("hi", {}, {6});
  b.initializer("fc", {10, 4}, ramp(40)).initializer("fcb", {10}, ramp(10));
  b.node("Conv", {"x", "w1"}, {"c1"}).ints("strides", {2, 2}).s("auto_pad", "SAME_UPPER");
  b.node("BatchNormalization", {"c1", "g", "be", "mu", "va"}, {"b1"});
  b.node("Clip", {"b1", "lo", "hi"}, {"r1"});
  b.node("Conv", {"r1", "w2"}, {"c2"}).i("group", 4).ints("pads", {1, 1, 1, 1});
  b.node("Add", {"c2", "r1"}, {"s"});
  b.node("Dropout", {"s"}, {"d"});
  b.node("MaxPool", {"d"}, {"p"}).ints("kernel_shape", {2, 2}).ints("strides", {2, 2});
  b.node("ReduceMean", {"p"}, {"m"}).ints("axes", {2, 3}).i("keepdims", 0);
  b.node("Gemm", {"m", "fc", "fcb"}, {"logits"}).i("transB", 1);
  b.node("Relu", {"logits"}, {"out"});
  b.output("out");
  const Graph before = b.import();
  Graph g = before;
  run_standard_passes(g);
  EXPECT_EQ(count(g, OpType::BatchNormalization), 0);
  EXPECT_EQ(count(g, OpType::Clip), 0);
  EXPECT_EQ(count(g, OpType::Relu), 0);
  EXPECT_EQ(count(g, OpType::Dropout), 0);
  EXPECT_EQ(g.nodes.size(), 6u);
  EXPECT_EQ(g.nodes[0].activation.max, 6.0f);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.outputs[0])].name, "out");
  expect_same_outputs(before, g, 1e-4f);
}

}  // namespace
}  // namespace mcusplit::model
