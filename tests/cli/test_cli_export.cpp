// `mcusplit export` through the executable: the trained Fashion-MNIST model
// exported to .tflite and read back by infer with the same output bits, and
// refusals that leave no file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "quant/mq_format.h"
#include "quant/qgraph_builder.h"
#include "support/required_data.h"

namespace mcusplit::testing {
namespace {

const std::string kImages = std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images/";
const std::string kFashionArgs = " --mean 0.2860 --std 0.3530 --no-crop";

std::string infer_output(const std::string& model, const std::string& image, const ScratchDir& dir,
                         const std::string& name, CliResult* result) {
  const std::string out = dir.file(name);
  *result = run_cli(
      "infer '" + model + "' --input '" + image + "'" + kFashionArgs + " --output '" + out + "'",
      dir);
  return result->exit_code == 0 ? read_text_file(out) : "";
}

TEST(CliExport, TheTrainedFashionMnistModelExportsAndInfersTheSameBits) {
  const std::string train = std::string(FASHION_MNIST_DIR) + "/train-images-idx3-ubyte.gz";
  MCUSPLIT_REQUIRE_DATA(std::filesystem::exists(train), "the Fashion-MNIST dataset");
  ScratchDir dir("cli_export_fashion");
  const std::string onnx = std::string(MCUSPLIT_SOURCE_DIR) + "/models/fashion_mnist_mbv2.onnx";
  const std::string mq = dir.file("fashion.mq");
  CliResult r =
      run_cli("quantize '" + onnx + "' --calib '" + train + "' --samples 50 -o '" + mq + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string tflite = dir.file("fashion.tflite");
  r = run_cli("export '" + mq + "' -o '" + tflite + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string bytes = read_text_file(tflite);
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(4, 4), "TFL3");
  for (const char* image : {"fashion_test0_ankle-boot.pgm", "fashion_test1_pullover.pgm",
                            "fashion_test2_trouser.pgm"}) {
    CliResult from_mq, from_tflite;
    const std::string a = infer_output(mq, kImages + image, dir, "mq.pb", &from_mq);
    ASSERT_EQ(from_mq.exit_code, 0) << from_mq.err;
    const std::string b = infer_output(tflite, kImages + image, dir, "tflite.pb", &from_tflite);
    ASSERT_EQ(from_tflite.exit_code, 0) << from_tflite.err;
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a, b) << image;
  }
}

TEST(CliExport, ARefusedLayerIsOneLineAndLeavesNoFile) {
  ScratchDir dir("cli_export_refused");
  // Two copies of the input concatenated into a differently quantized
  // output: TFLite's int8 CONCATENATION cannot rescale.
  QGraphBuilder b(6);
  const int in = b.input({2, 5, 5});
  const std::string mq = dir.file("rescaling_concat.mq");
  quant::write_mq_file(b.finish(b.concat({in, in})), mq);
  const std::string out = dir.file("out.tflite");
  CliResult r = run_cli("export '" + mq + "' -o '" + out + "'", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("cannot export layer 'Concat_0' (Concat): input 0"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  // Not an int8 model, and not a .tflite to write: refused before any work.
  r = run_cli("export model.onnx -o '" + out + "'", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("export reads an int8 model (.mq or .tflite)"), std::string::npos) << r.err;
  r = run_cli("export '" + mq + "' -o out.mq", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("does not end in .tflite"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mcusplit::testing
