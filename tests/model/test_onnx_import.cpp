// Importer: model structure, conv attributes and every error case.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "model/error_matchers.h"
#include "model/graph.h"
#include "model/onnx_builder.h"
#include "model/onnx_import.h"

namespace mcusplit::model {
namespace {

using onnx_test::expect_error;
using onnx_test::OnnxBuilder;
using onnx_test::ramp;
using onnx_test::tensor_named;

// x[1,3,8,8] -> Conv(4, 3x3, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(10)
OnnxBuilder small_cnn(int64_t opset = 13) {
  OnnxBuilder b(opset);
  b.input("x", {1, 3, 8, 8})
      .initializer("w", {4, 3, 3, 3}, ramp(108))
      .initializer("b", {4}, {0.1f, 0.2f, 0.3f, 0.4f})
      .initializer("fc.w", {10, 4}, ramp(40))
      .initializer("fc.b", {10}, ramp(10));
  b.node("Conv", {"x", "w", "b"}, {"c"}, "conv1").ints("pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"}, "relu1");
  b.node("GlobalAveragePool", {"r"}, {"g"}, "gap");
  b.node("Flatten", {"g"}, {"f"}, "flat");
  b.node("Gemm", {"f", "fc.w", "fc.b"}, {"y"}, "fc").i("transB", 1);
  b.output("y");
  return b;
}

TEST(OnnxImport, ImportsSmallCnnWithShapesAndNames) {
  const Graph g = small_cnn().import();
  EXPECT_EQ(g.opset, 13);
  ASSERT_EQ(g.nodes.size(), 5u);
  EXPECT_EQ(g.nodes[0].op, OpType::Conv);
  EXPECT_EQ(g.nodes[0].name, "conv1");
  EXPECT_EQ(g.nodes[4].op, OpType::Gemm);
  EXPECT_TRUE(g.nodes[4].gemm.trans_b);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.inputs[0])].name, "x");
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.outputs[0])].name, "y");
  EXPECT_EQ(tensor_named(g, "c").shape, (Dims{1, 4, 8, 8}));
  EXPECT_EQ(tensor_named(g, "g").shape, (Dims{1, 4, 1, 1}));
  EXPECT_EQ(tensor_named(g, "f").shape, (Dims{1, 4}));
  EXPECT_EQ(tensor_named(g, "y").shape, (Dims{1, 10}));
  const Tensor& w = tensor_named(g, "w");
  EXPECT_TRUE(w.is_constant);
  EXPECT_EQ(w.data, ramp(108));
  EXPECT_FALSE(tensor_named(g, "c").is_constant);
  for (const Tensor& t : g.tensors) EXPECT_FALSE(t.shape.empty()) << t.name;
}

TEST(OnnxImport, FileRoundTrip) {
  const auto path = std::filesystem::temp_directory_path() / "mcusplit_import_test.onnx";
  {
    std::ofstream out(path, std::ios::binary);
    out << small_cnn().bytes();
  }
  const Graph g = import_onnx_file(path.string());
  EXPECT_EQ(g.nodes.size(), 5u);
  std::filesystem::remove(path);
}

TEST(OnnxImport, InitializersListedAsInputsAreConstants) {
  OnnxBuilder b = small_cnn(9);
  // Old exporters repeat initializers in graph.input.
  b.input("w", {4, 3, 3, 3});
  const Graph g = b.import();
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_TRUE(tensor_named(g, "w").is_constant);
}

TEST(OnnxImport, SymbolicBatchBecomesOne) {
  OnnxBuilder b;
  b.input("x", {-1, 3, 4, 4}).node("Relu", {"x"}, {"y"});
  b.output("y");
  EXPECT_EQ(tensor_named(b.import(), "y").shape, (Dims{1, 3, 4, 4}));
  OnnxBuilder zero;
  zero.input("x", {0, 3, 4, 4}).node("Relu", {"x"}, {"y"});
  zero.output("y");
  EXPECT_EQ(tensor_named(zero.import(), "y").shape, (Dims{1, 3, 4, 4}));
}

TEST(OnnxImport, SymbolicSpatialDimIsRejected) {
  OnnxBuilder b;
  b.input("x", {1, 3, -1, 4}).node("Relu", {"x"}, {"y"});
  b.output("y");
  expect_error([&] { b.import(); }, {"graph input 'x'", "axis 2", "'N'"});
}

TEST(OnnxImport, DepthwiseAndGroupedConv) {
  OnnxBuilder b;
  b.input("x", {1, 4, 6, 6})
      .initializer("dw", {4, 1, 3, 3}, ramp(36))
      .initializer("gw", {6, 2, 1, 1}, ramp(12));
  b.node("Conv", {"x", "dw"}, {"d"})
      .i("group", 4)
      .ints("strides", {2, 2})
      .ints("pads", {1, 1, 1, 1});
  b.node("Conv", {"d", "gw"}, {"y"}).i("group", 2);
  b.output("y");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].conv.group, 4);
  EXPECT_EQ(g.nodes[0].inputs.size(), 2u);  // no bias
  EXPECT_EQ(tensor_named(g, "d").shape, (Dims{1, 4, 3, 3}));
  EXPECT_EQ(tensor_named(g, "y").shape, (Dims{1, 6, 3, 3}));
  // The unnamed nodes are called by their index.
  EXPECT_EQ(g.nodes[0].name, "#0");
}

TEST(OnnxImport, KernelShapeComesFromWeightWhenAbsent) {
  OnnxBuilder b;
  b.input("x", {1, 1, 5, 5}).initializer("w", {2, 1, 3, 2}, ramp(12));
  b.node("Conv", {"x", "w"}, {"y"});
  b.output("y");
  const Graph g = b.import();
  EXPECT_EQ(g.nodes[0].conv.window.kernel, (std::array<int64_t, 2>{3, 2}));
  EXPECT_EQ(tensor_named(g, "y").shape, (Dims{1, 2, 3, 4}));
}

Window2d conv_window_with_auto_pad(const std::string& auto_pad, int64_t in, int64_t k,
                                   int64_t stride) {
  OnnxBuilder b;
  b.input("x", {1, 1, in, in}).initializer("w", {1, 1, k, k}, ramp(static_cast<size_t>(k * k)));
  b.node("Conv", {"x", "w"}, {"y"}).s("auto_pad", auto_pad).ints("strides", {stride, stride});
  b.output("y");
  return b.import().nodes[0].conv.window;
}

TEST(OnnxImport, AutoPadResolvesToExplicitPads) {
  using Pads = std::array<int64_t, 4>;
  // in 5, k 3, s 1: total pad 2, split evenly.
  EXPECT_EQ(conv_window_with_auto_pad("SAME_UPPER", 5, 3, 1).pads, (Pads{1, 1, 1, 1}));
  // in 6, k 3, s 2: out 3, total pad 1: UPPER puts it at the end, LOWER first.
  EXPECT_EQ(conv_window_with_auto_pad("SAME_UPPER", 6, 3, 2).pads, (Pads{0, 0, 1, 1}));
  EXPECT_EQ(conv_window_with_auto_pad("SAME_LOWER", 6, 3, 2).pads, (Pads{1, 1, 0, 0}));
  // in 7, k 4, s 1: total 3.
  EXPECT_EQ(conv_window_with_auto_pad("SAME_UPPER", 7, 4, 1).pads, (Pads{1, 1, 2, 2}));
  EXPECT_EQ(conv_window_with_auto_pad("SAME_LOWER", 7, 4, 1).pads, (Pads{2, 2, 1, 1}));
  EXPECT_EQ(conv_window_with_auto_pad("VALID", 7, 3, 1).pads, (Pads{0, 0, 0, 0}));
  EXPECT_EQ(conv_window_with_auto_pad("NOTSET", 7, 3, 1).pads, (Pads{0, 0, 0, 0}));
}

TEST(OnnxImport, AutoPadSameKeepsCeilOfInputOverStride) {
  OnnxBuilder b;
  b.input("x", {1, 1, 7, 7});
  b.node("MaxPool", {"x"}, {"y"})
      .s("auto_pad", "SAME_UPPER")
      .ints("kernel_shape", {3, 3})
      .ints("strides", {2, 2});
  b.output("y");
  EXPECT_EQ(tensor_named(b.import(), "y").shape, (Dims{1, 1, 4, 4}));
}

TEST(OnnxImport, RejectsDilation) {
  OnnxBuilder b;
  b.input("x", {1, 1, 8, 8}).initializer("w", {1, 1, 3, 3}, ramp(9));
  b.node("Conv", {"x", "w"}, {"y"}, "dilated").ints("dilations", {2, 2});
  b.output("y");
  expect_error([&] { b.import(); }, {"'dilated'", "Conv", "opset 13", "dilations [2,2]"});
}

TEST(OnnxImport, AcceptsUnitDilation) {
  OnnxBuilder b;
  b.input("x", {1, 1, 8, 8}).initializer("w", {1, 1, 3, 3}, ramp(9));
  b.node("Conv", {"x", "w"}, {"y"}).ints("dilations", {1, 1});
  b.output("y");
  EXPECT_EQ(tensor_named(b.import(), "y").shape, (Dims{1, 1, 6, 6}));
}

TEST(OnnxImport, RejectsConv1d) {
  OnnxBuilder b;
  b.input("x", {1, 2, 8}).initializer("w", {1, 2, 3}, ramp(6));
  b.node("Conv", {"x", "w"}, {"y"}, "c1d");
  b.output("y");
  expect_error([&] { b.import(); }, {"'c1d'", "only 2-D Conv", "[1, 2, 8]"});
}

TEST(OnnxImport, UnsupportedOperatorNamesNodeOpsetAndSupportedList) {
  OnnxBuilder b(11);
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"r"});
  b.node("Sigmoid", {"r"}, {"y"}, "gate");
  b.output("y");
  expect_error([&] { b.import(); },
               {"test.onnx", "node 'gate'", "Sigmoid", "opset 11", "unsupported operator", "Conv",
                "BatchNormalization", "MaxPool", "Reshape"});
}

TEST(OnnxImport, UnsupportedUnnamedOperatorUsesIndex) {
  OnnxBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"r"});
  b.node("Tanh", {"r"}, {"y"});
  b.output("y");
  expect_error([&] { b.import(); }, {"node #1", "Tanh"});
}

TEST(OnnxImport, RejectsForeignDomain) {
  OnnxBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"y"}).domain("com.microsoft");
  b.output("y");
  expect_error([&] { b.import(); }, {"com.microsoft", "Relu"});
}

TEST(OnnxImport, MissingFile) {
  expect_error([] { import_onnx_file("/nonexistent/model.onnx"); },
               {"cannot open '/nonexistent/model.onnx'", "No such file"});
}

TEST(OnnxImport, DirectoryIsNotAModel) {
  expect_error([] { import_onnx_file("/tmp"); }, {"'/tmp'"});
}

TEST(OnnxImport, EveryTruncationOfAValidModelFailsCleanly) {
  const std::string bytes = small_cnn().bytes();
  for (size_t n = 0; n < bytes.size(); n += 7) {
    SCOPED_TRACE(n);
    expect_error([&] { import_onnx_bytes(bytes.substr(0, n), "cut.onnx"); }, {"'cut.onnx'"});
  }
  expect_error([&] { import_onnx_bytes(bytes.substr(0, bytes.size() / 2), "cut.onnx"); },
               {"'cut.onnx' is not a valid ONNX model"});
}

TEST(OnnxImport, RandomBytesFailCleanly) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(static_cast<size_t>(1 + trial * 13), '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    expect_error([&] { import_onnx_bytes(bytes, "random.bin"); }, {"'random.bin'"});
  }
  expect_error([] { import_onnx_bytes(std::string("\xff\xff\xff\xff garbage"), "g.onnx"); },
               {"'g.onnx' is not a valid ONNX model"});
}

TEST(OnnxImport, FlippedBytesOfAValidModelNeverCrash) {
  const std::string bytes = small_cnn().bytes();
  std::mt19937 rng(99);
  for (int trial = 0; trial < 300; ++trial) {
    std::string corrupt = bytes;
    corrupt[rng() % corrupt.size()] = static_cast<char>(rng() & 0xff);
    try {
      import_onnx_bytes(corrupt, "flip.onnx");
    } catch (const Error&) {
    }
  }
}

TEST(OnnxImport, EmptyGraph) {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("x");
  expect_error([&] { b.import(); }, {"'test.onnx' has an empty graph"});
}

TEST(OnnxImport, UnknownTensorName) {
  OnnxBuilder b;
  b.input("x", {1, 4});
  b.node("Add", {"x", "nowhere"}, {"y"}, "add");
  b.output("y");
  expect_error([&] { b.import(); }, {"'add'", "'nowhere'"});
}

TEST(OnnxImport, UnknownGraphOutput) {
  OnnxBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"y"});
  b.output("z");
  expect_error([&] { b.import(); }, {"graph output 'z'"});
}

TEST(OnnxImport, OpsetOutOfRange) {
  OnnxBuilder old(5);
  old.input("x", {1, 4}).node("Relu", {"x"}, {"y"});
  old.output("y");
  expect_error([&] { old.import(); }, {"opset 5", "6 to 17"});
  OnnxBuilder recent(18);
  recent.input("x", {1, 4}).node("Relu", {"x"}, {"y"});
  recent.output("y");
  expect_error([&] { recent.import(); }, {"opset 18"});
}

TEST(OnnxImport, Opset1ReadOnlyForUnchangedOperators) {
  OnnxBuilder gap(1);
  gap.input("x", {1, 3, 4, 4}).node("GlobalAveragePool", {"x"}, {"y"});
  gap.output("y");
  const Graph g = gap.import();
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.outputs[0])].shape, (Dims{1, 3, 1, 1}));
}

TEST(OnnxImport, MissingDefaultOpset) {
  OnnxBuilder b;
  b.input("x", {1, 4}).node("Relu", {"x"}, {"y"});
  b.output("y");
  b.model().clear_opset_import();
  expect_error([&] { b.import(); }, {"is not a valid ONNX model"});
}

TEST(OnnxImport, ChannelMismatchNamesNode) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).initializer("w", {4, 2, 3, 3}, ramp(72));
  b.node("Conv", {"x", "w"}, {"y"}, "bad_conv");
  b.output("y");
  expect_error([&] { b.import(); }, {"'bad_conv'", "3 channels"});
}

TEST(OnnxImport, WeightCountMismatch) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).initializer("w", {4, 3, 3, 3}, ramp(10));
  b.node("Conv", {"x", "w"}, {"y"});
  b.output("y");
  expect_error([&] { b.import(); }, {"initializer 'w'", "10 values"});
}

TEST(OnnxImport, ExternalDataIsRejected) {
  OnnxBuilder b = small_cnn();
  b.graph()->mutable_initializer(0)->set_data_location(onnx::TensorProto::EXTERNAL);
  expect_error([&] { b.import(); }, {"initializer 'w'", "external data"});
}

TEST(OnnxImport, SupportedOperatorsListNamesEveryIrOperator) {
  const std::string list = supported_operators_list();
  for (const char* op : {"Conv", "BatchNormalization", "Relu", "Clip", "Add", "GlobalAveragePool",
                         "ReduceMean", "AveragePool", "MaxPool", "Gemm", "MatMul", "Flatten",
                         "Reshape", "Concat", "Identity", "Dropout"}) {
    EXPECT_NE(list.find(op), std::string::npos) << op;
  }
}

}  // namespace
}  // namespace mcusplit::model
