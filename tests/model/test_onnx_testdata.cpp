// The importer on the ONNX backend test models shipped by Debian: every model
// imports or fails with a clean mcusplit::Error, and where it imports, the
// inferred output shapes equal the ones the model declares.
#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "model/float_executor.h"
#include "model/onnx_import.h"
#include "model/tensor_io.h"
#include "support/required_data.h"

namespace mcusplit::model {
namespace {

namespace fs = std::filesystem;

onnx::ModelProto read_model(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  model.ParseFromIstream(&in);
  return model;
}

// Declared static output dims, or empty if any is symbolic.
Dims declared_dims(const onnx::ValueInfoProto& info) {
  Dims dims;
  for (const auto& d : info.type().tensor_type().shape().dim()) {
    if (!d.has_dim_value()) return {};
    dims.push_back(d.dim_value());
  }
  return dims;
}

TEST(OnnxTestdata, ImportsOrFailsCleanlyAndShapesMatch) {
  const fs::path root(ONNX_NODE_TEST_DIR);
  MCUSPLIT_REQUIRE_DATA(fs::exists(root), "libonnx-testdata");
  int imported = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    const fs::path file = entry.path() / "model.onnx";
    if (!fs::exists(file)) continue;
    Graph g;
    try {
      g = import_onnx_file(file.string());
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      continue;
    }
    ++imported;
    const onnx::ModelProto model = read_model(file);
    ASSERT_EQ(g.outputs.size(), static_cast<size_t>(model.graph().output_size())) << file;
    for (int i = 0; i < model.graph().output_size(); ++i) {
      const Dims want = declared_dims(model.graph().output(i));
      if (want.empty() && model.graph().output(i).type().tensor_type().shape().dim_size() > 0) {
        continue;
      }
      EXPECT_EQ(g.tensors[static_cast<size_t>(g.outputs[static_cast<size_t>(i)])].shape, want)
          << file;
    }
  }
  EXPECT_GT(imported, 60);
}

// Models this importer must accept (the operators mcusplit supports).
TEST(OnnxTestdata, SupportedModelsImport) {
  const fs::path root(ONNX_NODE_TEST_DIR);
  MCUSPLIT_REQUIRE_DATA(fs::exists(root), "libonnx-testdata");
  for (const char* name : {"test_conv_with_autopad_same",
                           "test_conv_with_strides_padding",
                           "test_conv_with_strides_and_asymmetric_padding",
                           "test_clip_default_inbounds",
                           "test_maxpool_2d_ceil",
                           "test_maxpool_2d_pads",
                           "test_maxpool_2d_same_upper",
                           "test_maxpool_2d_same_lower",
                           "test_averagepool_2d_pads_count_include_pad",
                           "test_averagepool_2d_same_lower",
                           "test_batchnorm_epsilon",
                           "test_batchnorm_example",
                           "test_gemm_all_attributes",
                           "test_gemm_default_scalar_bias",
                           "test_matmul_4d",
                           "test_flatten_negative_axis1",
                           "test_concat_3d_axis_negative_1",
                           "test_reduce_mean_keepdims_example",
                           "test_dropout_default",
                           "test_identity",
                           "test_relu",
                           "test_add_bcast",
                           "test_shape",
                           "test_shape_start_1_end_2",
                           "test_averagepool_2d_ceil",
                           "test_maxpool_2d_precomputed_same_upper"}) {
    const fs::path file = root / name / "model.onnx";
    if (!fs::exists(file)) continue;
    SCOPED_TRACE(name);
    try {
      import_onnx_file(file.string());
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

// Bounds and target shapes given as graph inputs cannot be folded: rejected
// with a message that says so (a runner may promote them to initializers).
TEST(OnnxTestdata, NonConstantOperandsAreExplained) {
  const fs::path root(ONNX_NODE_TEST_DIR);
  MCUSPLIT_REQUIRE_DATA(fs::exists(root / "test_clip" / "model.onnx"), "libonnx-testdata");
  for (const char* name : {"test_clip", "test_reshape_reordered_all_dims"}) {
    try {
      import_onnx_file((root / name / "model.onnx").string());
      ADD_FAILURE() << name << " imported";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("must be a constant"), std::string::npos) << e.what();
    }
  }
}

// A runner can promote operand inputs to initializers and import the model.
TEST(OnnxTestdata, PromotedClipBoundsImportAndRun) {
  const fs::path dir = fs::path(ONNX_NODE_TEST_DIR) / "test_clip";
  MCUSPLIT_REQUIRE_DATA(fs::exists(dir / "model.onnx"), "libonnx-testdata");
  onnx::ModelProto model = read_model(dir / "model.onnx");
  for (int i = 1; i < model.graph().input_size(); ++i) {
    std::ifstream in(dir / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb"),
                     std::ios::binary);
    onnx::TensorProto t;
    ASSERT_TRUE(t.ParseFromIstream(&in));
    t.set_name(model.graph().input(i).name());
    *model.mutable_graph()->add_initializer() = t;
  }
  const Graph g = import_onnx_model(model, "test_clip");
  ASSERT_EQ(g.inputs.size(), 1u);
  const FloatTensor x = read_tensor_file((dir / "test_data_set_0" / "input_0.pb").string());
  const FloatTensor want = read_tensor_file((dir / "test_data_set_0" / "output_0.pb").string());
  const std::vector<FloatTensor> got = run_graph(g, {x});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].shape, want.shape);
  EXPECT_EQ(got[0].data, want.data);
}

// Older PyTorch exports transpose a Linear layer's weight with a Transpose
// node before MatMul; on an initializer it is folded into a constant, and
// the model computes what its test data says.
TEST(OnnxTestdata, TransposedWeightBeforeMatMulIsFolded) {
  const fs::path dir =
      fs::path(ONNX_NODE_TEST_DIR) / ".." / "pytorch-converted" / "test_Linear_no_bias";
  MCUSPLIT_REQUIRE_DATA(fs::exists(dir / "model.onnx"), "libonnx-testdata");
  const onnx::ModelProto model = read_model(dir / "model.onnx");
  ASSERT_EQ(model.graph().node(0).op_type(), "Transpose");
  const Graph g = import_onnx_file((dir / "model.onnx").string());
  const FloatTensor x = read_tensor_file((dir / "test_data_set_0" / "input_0.pb").string());
  const FloatTensor want = read_tensor_file((dir / "test_data_set_0" / "output_0.pb").string());
  const std::vector<FloatTensor> got = run_graph(g, {x});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].shape, want.shape);
  ASSERT_EQ(got[0].data.size(), want.data.size());
  for (size_t i = 0; i < want.data.size(); ++i) {
    EXPECT_NEAR(got[0].data[i], want.data[i], 1e-5f * (1.0f + std::fabs(want.data[i]))) << i;
  }
}

// A Transpose of a tensor computed at run time is not an operator of the IR:
// refused naming it, with Transpose listed among the constant-only ops.
TEST(OnnxTestdata, TransposeOfActivationsIsRefusedClearly) {
  const fs::path file = fs::path(ONNX_NODE_TEST_DIR) / "test_transpose_default" / "model.onnx";
  MCUSPLIT_REQUIRE_DATA(fs::exists(file), "libonnx-testdata");
  try {
    import_onnx_file(file.string());
    ADD_FAILURE() << "imported";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("(Transpose, opset"), std::string::npos) << what;
    EXPECT_NE(what.find("Squeeze, Transpose, Unsqueeze"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace mcusplit::model
