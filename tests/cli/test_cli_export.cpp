// `mcusplit export` through the executable: the trained Fashion-MNIST model
// exported to .tflite and read back by infer with the same output bits;
// MobileNetV2-1.0 at 224 exported, planned and run split from the .tflite;
// refusals that leave no file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

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

// MobileNetV2-1.0 at 224 as a .tflite (the converters' full-size case: its
// strided convolutions get a PAD in front, global pooling is MEAN, the
// classifier FULLY_CONNECTED, the residuals ADD): imported back, it infers
// the .mq's bits, plans onto 8xteensy41 with 256 KiB each exactly as the
// .mq does, and runs split on 8 workers bit-exact with one device.
TEST(CliExport, MobileNetV2At224AsTfliteRunsSplitOnEightBitExact) {
  ScratchDir dir("cli_export_224");
  const std::string onnx = dir.file("mnv2.onnx");
  ASSERT_EQ(run_cli("zoo mobilenetv2 -o '" + onnx + "'", dir).exit_code, 0);
  const std::string mq = dir.file("mnv2.mq");
  ASSERT_EQ(
      run_cli("quantize '" + onnx + "' --calib random --samples 2 -o '" + mq + "'", dir).exit_code,
      0);
  const std::string tflite = dir.file("mnv2.tflite");
  CliResult r = run_cli("export '" + mq + "' -o '" + tflite + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string image = kImages + "fashion_test1_pullover.pgm";
  const auto output = [&](const std::string& verb, const std::string& name) {
    const std::string out = dir.file(name);
    const CliResult c = run_cli(verb + " --input '" + image + "' --output '" + out + "'", dir);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    return c.exit_code == 0 ? read_text_file(out) : "";
  };
  const std::string single = output("infer '" + mq + "'", "mq.pb");
  ASSERT_FALSE(single.empty());
  EXPECT_EQ(output("infer '" + tflite + "'", "tflite.pb"), single);
  const auto peak = [&](const std::string& model, const std::string& plan) {
    const CliResult c = run_cli(
        "plan '" + model + "' --devices 8xteensy41 --ram 256KiB --json -o '" + dir.file(plan) + "'",
        dir);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    return c.exit_code == 0 ? nlohmann::json::parse(c.out)["max_peak_ram_bytes"].get<int64_t>()
                            : int64_t{-1};
  };
  EXPECT_EQ(peak(tflite, "t.plan"), peak(mq, "m.plan"));
  EXPECT_EQ(output("run '" + dir.file("t.plan") + "'", "split.pb"), single);
}

}  // namespace
}  // namespace mcusplit::testing
