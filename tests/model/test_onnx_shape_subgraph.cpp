// Importer: shape sub-graphs and Constant nodes are evaluated at import time.
#include <gtest/gtest.h>

#include "model/error_matchers.h"
#include "model/graph.h"
#include "model/onnx_builder.h"

namespace mcusplit::model {
namespace {

using onnx_test::expect_error;
using onnx_test::float_tensor_proto;
using onnx_test::int64_tensor_proto;
using onnx_test::OnnxBuilder;
using onnx_test::ramp;
using onnx_test::tensor_named;

// What torch.onnx writes for x.view(x.size(0), -1) at opset 11:
// Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape.
OnnxBuilder pytorch_view_model(int64_t opset) {
  OnnxBuilder b(opset);
  b.input("input", {-1, 2, 3, 3}).initializer("w", {4, 2, 1, 1}, ramp(8));
  b.node("Conv", {"input", "w"}, {"conv_out"}, "Conv_0");
  b.node("Shape", {"conv_out"}, {"3"}, "Shape_1");
  b.node("Constant", {}, {"4"}, "Constant_2").t("value", int64_tensor_proto("", {}, {0}));
  b.node("Gather", {"3", "4"}, {"5"}, "Gather_3").i("axis", 0);
  if (opset < 13) {
    b.node("Unsqueeze", {"5"}, {"6"}, "Unsqueeze_4").ints("axes", {0});
  } else {
    b.node("Constant", {}, {"axes0"}).t("value", int64_tensor_proto("", {1}, {0}));
    b.node("Unsqueeze", {"5", "axes0"}, {"6"}, "Unsqueeze_4");
  }
  b.node("Constant", {}, {"7"}).t("value", int64_tensor_proto("", {1}, {-1}));
  b.node("Concat", {"6", "7"}, {"8"}, "Concat_5").i("axis", 0);
  b.node("Reshape", {"conv_out", "8"}, {"output"}, "Reshape_6");
  b.output("output");
  return b;
}

TEST(OnnxShapeSubgraph, PyTorchViewFoldsIntoReshape) {
  for (int64_t opset : {11, 13}) {
    SCOPED_TRACE(opset);
    const Graph g = pytorch_view_model(opset).import();
    ASSERT_EQ(g.nodes.size(), 2u);
    EXPECT_EQ(g.nodes[0].op, OpType::Conv);
    EXPECT_EQ(g.nodes[1].op, OpType::Reshape);
    const Tensor& shape = g.tensors[static_cast<size_t>(g.nodes[1].inputs[1])];
    EXPECT_TRUE(shape.is_constant);
    EXPECT_EQ(shape.name, "8");
    EXPECT_EQ(shape.data, (std::vector<float>{1.0f, -1.0f}));
    EXPECT_EQ(tensor_named(g, "output").shape, (Dims{1, 36}));
    // The intermediate shape values are gone.
    EXPECT_LT(g.find_tensor("5"), 0);
  }
}

TEST(OnnxShapeSubgraph, CastSliceAndSqueeze) {
  OnnxBuilder b(13);
  b.input("x", {1, 3, 4, 4});
  b.node("Shape", {"x"}, {"s"});
  b.node("Constant", {}, {"starts"}).t("value", int64_tensor_proto("", {1}, {2}));
  b.node("Constant", {}, {"ends"}).t("value", int64_tensor_proto("", {1}, {INT64_MAX}));
  b.node("Slice", {"s", "starts", "ends"}, {"hw"});  // [4, 4]
  b.node("Cast", {"hw"}, {"hwf"}).i("to", onnx::TensorProto::FLOAT);
  b.node("Constant", {}, {"one"}).t("value", int64_tensor_proto("", {1}, {1}));
  b.node("Constant", {}, {"three"}).t("value", int64_tensor_proto("", {1}, {3}));
  b.node("Slice", {"s", "one", "three"}, {"ch"});  // [3, 4]
  b.node("Gather", {"ch", "one"}, {"g"});          // [4]
  b.node("Squeeze", {"g"}, {"w"});                 // 4
  b.node("Constant", {}, {"zero_one"}).t("value", int64_tensor_proto("", {2}, {0, 1}));
  b.node("Unsqueeze", {"w", "zero_one"}, {"w1"});  // [[4]]
  b.output("hwf");
  b.node("Relu", {"x"}, {"y"});
  b.output("y").output("w1");
  const Graph g = b.import();
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(tensor_named(g, "hwf").data, (std::vector<float>{4, 4}));
  EXPECT_EQ(tensor_named(g, "w1").shape, (Dims{1, 1}));
  EXPECT_EQ(tensor_named(g, "w1").data, (std::vector<float>{4}));
}

TEST(OnnxShapeSubgraph, SliceWithNegativeStep) {
  OnnxBuilder b(13);
  b.input("x", {1, 2, 3, 5});
  b.node("Shape", {"x"}, {"s"});
  b.node("Constant", {}, {"st"}).t("value", int64_tensor_proto("", {1}, {-1}));
  b.node("Constant", {}, {"en"}).t("value", int64_tensor_proto("", {1}, {INT64_MIN}));
  b.node("Constant", {}, {"ax"}).t("value", int64_tensor_proto("", {1}, {0}));
  b.node("Constant", {}, {"sp"}).t("value", int64_tensor_proto("", {1}, {-2}));
  b.node("Slice", {"s", "st", "en", "ax", "sp"}, {"r"});
  b.node("Relu", {"x"}, {"y"});
  b.output("y").output("r");
  EXPECT_EQ(tensor_named(b.import(), "r").data, (std::vector<float>{5, 2}));
}

TEST(OnnxShapeSubgraph, SliceOpset9Attributes) {
  OnnxBuilder b(9);
  b.input("x", {1, 2, 3, 5});
  b.node("Shape", {"x"}, {"s"});
  b.node("Slice", {"s"}, {"r"}).ints("starts", {1}).ints("ends", {-1});
  b.node("Relu", {"x"}, {"y"});
  b.output("y").output("r");
  EXPECT_EQ(tensor_named(b.import(), "r").data, (std::vector<float>{2, 3}));
}

TEST(OnnxShapeSubgraph, ConstantValueVariants) {
  OnnxBuilder b(13);
  b.input("x", {1, 2});
  b.node("Constant", {}, {"f"}).f("value_float", 1.5f);
  b.node("Constant", {}, {"fs"}).floats("value_floats", {1.0f, 2.0f});
  b.node("Constant", {}, {"i"}).i("value_int", 7);
  b.node("Constant", {}, {"is"}).ints("value_ints", {3, 4});
  b.node("Constant", {}, {"t"}).t("value", float_tensor_proto("", {1, 2}, {0.5f, 0.25f}));
  b.node("Add", {"x", "t"}, {"y"});
  b.output("y").output("f").output("fs").output("i").output("is");
  const Graph g = b.import();
  EXPECT_EQ(tensor_named(g, "f").data, (std::vector<float>{1.5f}));
  EXPECT_EQ(tensor_named(g, "f").shape, (Dims{}));
  EXPECT_EQ(tensor_named(g, "fs").shape, (Dims{2}));
  EXPECT_EQ(tensor_named(g, "i").data, (std::vector<float>{7}));
  EXPECT_EQ(tensor_named(g, "is").data, (std::vector<float>{3, 4}));
  EXPECT_TRUE(tensor_named(g, "t").is_constant);
  EXPECT_EQ(tensor_named(g, "t").data, (std::vector<float>{0.5f, 0.25f}));
}

TEST(OnnxShapeSubgraph, SqueezeOfActivationBecomesReshape) {
  OnnxBuilder b(11);
  b.input("x", {1, 8, 1, 1});
  b.node("Squeeze", {"x"}, {"y"}, "sq").ints("axes", {2, 3});
  b.node("Unsqueeze", {"y"}, {"z"}, "usq").ints("axes", {-1});
  b.output("z");
  const Graph g = b.import();
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op, OpType::Reshape);
  EXPECT_EQ(g.nodes[0].name, "sq");
  EXPECT_EQ(tensor_named(g, "y").shape, (Dims{1, 8}));
  EXPECT_EQ(tensor_named(g, "z").shape, (Dims{1, 8, 1}));
}

TEST(OnnxShapeSubgraph, GatherOfActivationIsRejected) {
  OnnxBuilder b(13);
  b.input("x", {1, 8}).int64_initializer("idx", {1}, {0});
  b.node("Gather", {"x", "idx"}, {"y"}, "gather_act").i("axis", 1);
  b.output("y");
  expect_error([&] { b.import(); }, {"'gather_act'", "Gather", "opset 13", "constant"});
}

TEST(OnnxShapeSubgraph, ShapeStartEndOpset15) {
  OnnxBuilder b(15);
  b.input("x", {1, 2, 3, 5});
  b.node("Shape", {"x"}, {"s"}).i("start", 1).i("end", -1);
  b.node("Relu", {"x"}, {"y"});
  b.output("y").output("s");
  EXPECT_EQ(tensor_named(b.import(), "s").data, (std::vector<float>{2, 3}));
}

}  // namespace
}  // namespace mcusplit::model
