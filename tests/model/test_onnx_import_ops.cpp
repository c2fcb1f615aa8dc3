// Importer: attributes of each supported operator across opsets.
#include <gtest/gtest.h>

#include <limits>

#include "model/error_matchers.h"
#include "model/graph.h"
#include "model/onnx_builder.h"

namespace mcusplit::model {
namespace {

using onnx_test::expect_error;
using onnx_test::float_tensor_proto;
using onnx_test::OnnxBuilder;
using onnx_test::ramp;
using onnx_test::tensor_named;

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(OnnxImportOps, ClipOpset6UsesAttributes) {
  OnnxBuilder b(6);
  b.input("x", {1, 4});
  b.node("Clip", {"x"}, {"y"}).f("min", 0.0f).f("max", 6.0f);
  b.output("y");
  const Graph g = b.import();
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpType::Clip);
  EXPECT_EQ(g.nodes[0].clip.min, 0.0f);
  EXPECT_EQ(g.nodes[0].clip.max, 6.0f);
  EXPECT_EQ(g.nodes[0].inputs.size(), 1u);
}

TEST(OnnxImportOps, ClipOpset6DefaultsAreUnbounded) {
  OnnxBuilder b(6);
  b.input("x", {1, 4});
  b.node("Clip", {"x"}, {"y"}).f("max", 1.0f);
  b.output("y");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].clip.min, -kInf);
  EXPECT_EQ(g.nodes[0].clip.max, 1.0f);
}

TEST(OnnxImportOps, ClipOpset11UsesConstantInputs) {
  OnnxBuilder b(11);
  b.input("x", {1, 4}).initializer("lo", {}, {-1.0f}).initializer("hi", {}, {2.5f});
  b.node("Clip", {"x", "lo", "hi"}, {"y"});
  b.output("y");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].clip.min, -1.0f);
  EXPECT_EQ(g.nodes[0].clip.max, 2.5f);
  EXPECT_EQ(g.nodes[0].inputs.size(), 1u);
  // The bounds are folded away.
  EXPECT_LT(g.find_tensor("lo"), 0);
}

TEST(OnnxImportOps, ClipOpset13OmittedMinAndConstantNodeMax) {
  OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.node("Constant", {}, {"six"}).t("value", float_tensor_proto("", {}, {6.0f}));
  b.node("Clip", {"x", "", "six"}, {"y"});
  b.output("y");
  const Graph g = b.import();
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].clip.min, -kInf);
  EXPECT_EQ(g.nodes[0].clip.max, 6.0f);
}

TEST(OnnxImportOps, ClipOpset13NoBounds) {
  OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.node("Clip", {"x"}, {"y"});
  b.output("y");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].clip.min, -kInf);
  EXPECT_EQ(g.nodes[0].clip.max, kInf);
}

TEST(OnnxImportOps, ClipWithComputedBoundIsRejected) {
  OnnxBuilder b(13);
  b.input("x", {1, 4}).input("m", {1});
  b.node("Clip", {"x", "m"}, {"y"}, "clip");
  b.output("y");
  expect_error([&] { b.import(); }, {"'clip'", "Clip min", "constant"});
}

OnnxBuilder batch_norm_model(int64_t opset) {
  OnnxBuilder b(opset);
  b.input("x", {1, 2, 3, 3})
      .initializer("s", {2}, {1.0f, 2.0f})
      .initializer("bias", {2}, {0.0f, 1.0f})
      .initializer("mean", {2}, {0.5f, -0.5f})
      .initializer("var", {2}, {1.0f, 4.0f});
  return b;
}

TEST(OnnxImportOps, BatchNormalizationEpsilon) {
  OnnxBuilder b = batch_norm_model(15);
  b.node("BatchNormalization", {"x", "s", "bias", "mean", "var"}, {"y"}).f("epsilon", 1e-3f);
  b.output("y");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].op, OpType::BatchNormalization);
  EXPECT_FLOAT_EQ(g.nodes[0].batch_norm.epsilon, 1e-3f);
  EXPECT_EQ(g.nodes[0].inputs.size(), 5u);
  EXPECT_EQ(tensor_named(g, "y").shape, (Dims{1, 2, 3, 3}));
}

TEST(OnnxImportOps, BatchNormalizationOpset6SpatialAndUnusedStats) {
  OnnxBuilder ok = batch_norm_model(6);
  // Old exporters declare the training outputs even for inference.
  ok.node("BatchNormalization", {"x", "s", "bias", "mean", "var"}, {"y", "m1", "v1"})
      .i("is_test", 1)
      .i("spatial", 1);
  ok.output("y");
  EXPECT_EQ(ok.import().nodes.size(), 1u);

  OnnxBuilder bad = batch_norm_model(6);
  bad.node("BatchNormalization", {"x", "s", "bias", "mean", "var"}, {"y"}, "bn").i("spatial", 0);
  bad.output("y");
  expect_error([&] { bad.import(); }, {"'bn'", "spatial=0"});
}

TEST(OnnxImportOps, BatchNormalizationTrainingIsRejected) {
  OnnxBuilder mode = batch_norm_model(15);
  mode.node("BatchNormalization", {"x", "s", "bias", "mean", "var"}, {"y"}, "bn")
      .i("training_mode", 1);
  mode.output("y");
  expect_error([&] { mode.import(); }, {"'bn'", "training_mode=1"});

  OnnxBuilder stats = batch_norm_model(9);
  stats.node("BatchNormalization", {"x", "s", "bias", "mean", "var"}, {"y", "rm"}, "bn");
  stats.output("y").output("rm");
  expect_error([&] { stats.import(); }, {"'bn'", "'rm'"});
}

TEST(OnnxImportOps, BatchNormalizationParameterShapeMismatch) {
  OnnxBuilder b = batch_norm_model(15);
  b.initializer("s3", {3}, {1, 1, 1});
  b.node("BatchNormalization", {"x", "s3", "bias", "mean", "var"}, {"y"}, "bn");
  b.output("y");
  expect_error([&] { b.import(); }, {"'bn'", "'s3'", "[3]"});
}

TEST(OnnxImportOps, MaxPoolCeilModeAndPads) {
  OnnxBuilder b(12);
  b.input("x", {1, 2, 6, 6});
  b.node("MaxPool", {"x"}, {"y"})
      .ints("kernel_shape", {3, 3})
      .ints("strides", {2, 2})
      .i("ceil_mode", 1);
  b.node("AveragePool", {"x"}, {"z"})
      .ints("kernel_shape", {2, 2})
      .ints("pads", {1, 0, 1, 0})
      .i("count_include_pad", 1);
  b.output("y").output("z");
  const Graph g = b.import();
  EXPECT_TRUE(g.nodes[0].pool.ceil_mode);
  EXPECT_EQ(tensor_named(g, "y").shape, (Dims{1, 2, 3, 3}));  // ceil(3/2)+1
  EXPECT_TRUE(g.nodes[1].pool.count_include_pad);
  EXPECT_EQ(g.nodes[1].pool.window.pads, (std::array<int64_t, 4>{1, 0, 1, 0}));
  EXPECT_EQ(tensor_named(g, "z").shape, (Dims{1, 2, 7, 5}));
}

TEST(OnnxImportOps, PoolRejections) {
  auto pool = [] {
    OnnxBuilder b(12);
    b.input("x", {1, 1, 4, 4});
    return b;
  };
  {
    OnnxBuilder b = pool();
    b.node("MaxPool", {"x"}, {"y", "idx"}, "mp").ints("kernel_shape", {2, 2});
    b.output("y");
    expect_error([&] { b.import(); }, {"'mp'", "Indices"});
  }
  {
    OnnxBuilder b = pool();
    b.node("MaxPool", {"x"}, {"y"}, "mp").ints("kernel_shape", {2, 2}).ints("dilations", {2, 2});
    b.output("y");
    expect_error([&] { b.import(); }, {"'mp'", "dilations"});
  }
  {
    OnnxBuilder b = pool();
    b.node("MaxPool", {"x"}, {"y"}, "mp").ints("kernel_shape", {2, 2}).i("storage_order", 1);
    b.output("y");
    expect_error([&] { b.import(); }, {"'mp'", "storage_order"});
  }
  {
    OnnxBuilder b(12);
    b.input("x", {1, 1, 4, 4, 4});
    b.node("AveragePool", {"x"}, {"y"}, "ap3d").ints("kernel_shape", {2, 2, 2});
    b.output("y");
    expect_error([&] { b.import(); }, {"'ap3d'", "only 2-D AveragePool"});
  }
}

TEST(OnnxImportOps, ReduceMeanAxesKeepdimsAndNoop) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 4, 5});
  b.node("ReduceMean", {"x"}, {"a"}).ints("axes", {-1, 2});
  b.node("ReduceMean", {"x"}, {"b"}).ints("axes", {1}).i("keepdims", 0);
  b.node("ReduceMean", {"x"}, {"c"}).i("keepdims", 0);
  b.output("a").output("b").output("c");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].reduce.axes, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tensor_named(g, "a").shape, (Dims{1, 3, 1, 1}));
  EXPECT_EQ(tensor_named(g, "b").shape, (Dims{1, 4, 5}));
  EXPECT_EQ(tensor_named(g, "c").shape, (Dims{}));

  OnnxBuilder noop(13);
  noop.input("x", {1, 3});
  noop.node("ReduceMean", {"x"}, {"y"}).i("noop_with_empty_axes", 1);
  noop.output("y");
  EXPECT_EQ(noop.import().nodes[0].op, OpType::Identity);

  OnnxBuilder input_axes(13);
  input_axes.input("x", {1, 3, 4}).int64_initializer("axes", {1}, {1});
  input_axes.node("ReduceMean", {"x", "axes"}, {"y"});
  input_axes.output("y");
  EXPECT_EQ(tensor_named(input_axes.import(), "y").shape, (Dims{1, 1, 4}));
}

TEST(OnnxImportOps, FlattenAndConcatNegativeAxes) {
  OnnxBuilder b(13);
  b.input("x", {1, 2, 3, 4}).input("z", {1, 5, 3, 4});
  b.node("Flatten", {"x"}, {"f"}).i("axis", -2);
  b.node("Concat", {"x", "z"}, {"c"}).i("axis", -3);
  b.output("f").output("c");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].axis.axis, 2);
  EXPECT_EQ(tensor_named(g, "f").shape, (Dims{2, 12}));
  EXPECT_EQ(g.nodes[1].axis.axis, 1);
  EXPECT_EQ(tensor_named(g, "c").shape, (Dims{1, 7, 3, 4}));
}

TEST(OnnxImportOps, GemmAttributesAndMatMulBroadcast) {
  OnnxBuilder b(13);
  b.input("a", {3, 2}).input("m", {2, 1, 4, 5}).initializer("w", {4, 3}, ramp(12));
  b.initializer("k", {3, 5, 6}, ramp(90));
  b.node("Gemm", {"a", "w"}, {"g"}).f("alpha", 0.5f).f("beta", 2.0f).i("transA", 1).i("transB", 1);
  b.node("MatMul", {"m", "k"}, {"mm"});
  b.output("g").output("mm");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].gemm.alpha, 0.5f);
  EXPECT_EQ(g.nodes[0].gemm.beta, 2.0f);
  EXPECT_TRUE(g.nodes[0].gemm.trans_a);
  EXPECT_EQ(tensor_named(g, "g").shape, (Dims{2, 4}));
  EXPECT_EQ(tensor_named(g, "mm").shape, (Dims{2, 3, 4, 6}));
}

TEST(OnnxImportOps, AddBroadcasts) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 4, 4}).initializer("c", {3, 1, 1}, {1, 2, 3});
  b.node("Add", {"x", "c"}, {"y"});
  b.output("y");
  EXPECT_EQ(tensor_named(b.import(), "y").shape, (Dims{1, 3, 4, 4}));

  OnnxBuilder bad(13);
  bad.input("x", {1, 3, 4, 4}).initializer("c", {2}, {1, 2});
  bad.node("Add", {"x", "c"}, {"y"}, "add");
  bad.output("y");
  expect_error([&] { bad.import(); }, {"'add'", "do not broadcast"});
}

TEST(OnnxImportOps, DropoutOpset12) {
  OnnxBuilder b(13);
  b.input("x", {1, 4}).initializer("ratio", {}, {0.5f});
  b.node("Constant", {}, {"train"}).t("value", onnx_test::int64_tensor_proto("", {}, {0}));
  b.node("Dropout", {"x", "ratio", "train"}, {"y", "mask"});
  b.output("y");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].op, OpType::Dropout);
  EXPECT_EQ(g.nodes[0].inputs.size(), 1u);
  EXPECT_EQ(g.nodes[0].outputs.size(), 1u);

  OnnxBuilder training(13);
  training.input("x", {1, 4}).initializer("ratio", {}, {0.5f}).initializer("train", {}, {1.0f});
  training.node("Dropout", {"x", "ratio", "train"}, {"y"}, "drop");
  training.output("y");
  expect_error([&] { training.import(); }, {"'drop'", "training_mode"});

  OnnxBuilder mask(10);
  mask.input("x", {1, 4});
  mask.node("Dropout", {"x"}, {"y", "mask"}, "drop");
  mask.node("Add", {"y", "mask"}, {"z"});
  mask.output("z");
  // At inference the mask keeps everything: a constant of ones.
  const Graph with_mask = mask.import();
  const Tensor& m = tensor_named(with_mask, "mask");
  EXPECT_TRUE(m.is_constant);
  EXPECT_EQ(m.shape, (Dims{1, 4}));
  EXPECT_EQ(m.data, std::vector<float>(4, 1.0f));
}

TEST(OnnxImportOps, ReshapeZeroAndMinusOne) {
  OnnxBuilder b(14);
  b.input("x", {1, 2, 3, 4}).int64_initializer("shape", {3}, {0, -1, 4});
  b.node("Reshape", {"x", "shape"}, {"y"});
  b.output("y");
  EXPECT_EQ(tensor_named(b.import(), "y").shape, (Dims{1, 6, 4}));

  OnnxBuilder zero(14);
  zero.input("x", {1, 2}).int64_initializer("shape", {2}, {0, 2});
  zero.node("Reshape", {"x", "shape"}, {"y"}, "r").i("allowzero", 1);
  zero.output("y");
  expect_error([&] { zero.import(); }, {"'r'", "allowzero"});

  OnnxBuilder dynamic(14);
  dynamic.input("x", {1, 2}).input("shape", {2});
  dynamic.node("Reshape", {"x", "shape"}, {"y"}, "r");
  dynamic.output("y");
  expect_error([&] { dynamic.import(); }, {"'r'", "target shape", "constant"});
}

TEST(OnnxImportOps, IdentityKeepsShape) {
  OnnxBuilder b(13);
  b.input("x", {1, 4});
  b.node("Identity", {"x"}, {"y"});
  b.output("y");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].op, OpType::Identity);
  EXPECT_EQ(tensor_named(g, "y").shape, (Dims{1, 4}));
}

}  // namespace
}  // namespace mcusplit::model
