// zoo, inspect and infer end to end through the command line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "model/tensor_io.h"

namespace mcusplit::testing {
namespace {

const std::string kNodeTests = ONNX_NODE_TEST_DIR;
const std::string kImages = std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images";

TEST(CliModels, MobileNetV2FullSizeFigures) {
  ScratchDir dir("mnv2_full");
  const std::string model = dir.file("mnv2.onnx");
  ASSERT_EQ(
      run_cli("zoo mobilenetv2 --width 1.0 --resolution 224 --classes 1000 -o '" + model + "'", dir)
          .exit_code,
      0);
  const CliResult r = run_cli("inspect --json '" + model + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["params"].get<int64_t>(), 3504872);
  EXPECT_EQ(j["macs"].get<int64_t>(), 300774272);
  EXPECT_EQ(j["peak_layer_io_bytes_int8"].get<int64_t>(), 1505280);
  int convs = 0;
  int fcs = 0;
  for (const auto& layer : j["layers"]) {
    const auto op = layer["op"].get<std::string>();
    convs += op.rfind("Conv", 0) == 0;
    fcs += op.rfind("Gemm", 0) == 0;
  }
  EXPECT_EQ(convs, 52);
  EXPECT_EQ(fcs, 1);
}

TEST(CliModels, InspectTablePrintsTotals) {
  ScratchDir dir("inspect_table");
  const std::string model = dir.file("small.onnx");
  ASSERT_EQ(
      run_cli("zoo mobilenetv2 --width 0.35 --resolution 64 --classes 10 -o '" + model + "'", dir)
          .exit_code,
      0);
  const CliResult r = run_cli("inspect '" + model + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MACs:"), std::string::npos);
  EXPECT_NE(r.out.find("peak layer input+output"), std::string::npos);
}

TEST(CliModels, InferImageJsonTop5AndOutputTensor) {
  ScratchDir dir("infer_image");
  const std::string model = dir.file("small.onnx");
  ASSERT_EQ(
      run_cli("zoo mobilenetv2 --width 0.35 --resolution 64 --classes 10 -o '" + model + "'", dir)
          .exit_code,
      0);
  const std::string out = dir.file("logits.pb");
  const CliResult r = run_cli("infer '" + model + "' --input '" + kImages +
                                  "/fashion_test0_ankle-boot.pgm' --json --output '" + out + "'",
                              dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& top5 = j["outputs"][0]["top5"][0];
  ASSERT_EQ(top5.size(), 5u);
  const auto logits = model::read_tensor_file(out);
  ASSERT_EQ(logits.shape, (model::Dims{1, 10}));
  // The reported best class is the arg-max of the written tensor.
  int64_t best = 0;
  for (int64_t i = 1; i < 10; ++i) {
    if (logits.data[static_cast<size_t>(i)] > logits.data[static_cast<size_t>(best)]) best = i;
  }
  EXPECT_EQ(top5[0]["index"].get<int64_t>(), best);
  EXPECT_GE(top5[0]["score"].get<float>(), top5[4]["score"].get<float>());
}

TEST(CliModels, InferTensorInputMatchesBackendExpectation) {
  ScratchDir dir("infer_pb");
  const std::string test = kNodeTests + "/test_basic_conv_with_padding";
  const std::string out = dir.file("y.pb");
  const CliResult r = run_cli("infer '" + test + "/model.onnx' --input '" + test +
                                  "/test_data_set_0/input_0.pb' --input '" + test +
                                  "/test_data_set_0/input_1.pb' --output '" + out + "'",
                              dir);
  // The conv weight is a graph input in this case, so it takes two files.
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = model::read_tensor_file(out);
  const auto want = model::read_tensor_file(test + "/test_data_set_0/output_0.pb");
  ASSERT_EQ(got.shape, want.shape);
  for (size_t i = 0; i < want.data.size(); ++i) EXPECT_NEAR(got.data[i], want.data[i], 1e-4);
}

}  // namespace
}  // namespace mcusplit::testing
