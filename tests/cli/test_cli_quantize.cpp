// `mcusplit quantize`: a zoo model with random, image-folder and IDX
// calibration, the summary, and bad input with exit code 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_runner.h"
#include "model/onnx_builder.h"
#include "model/onnx_writer.h"
#include "quant/mq_format.h"

namespace mcusplit::testing {
namespace {

const std::string kFashion = std::string(FASHION_MNIST_DIR) + "/t10k-images-idx3-ubyte.gz";
const std::string kImages = std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images";

std::string small_zoo_model(const ScratchDir& dir) {
  const std::string model = dir.file("mnv2.onnx");
  EXPECT_EQ(
      run_cli("zoo mobilenetv2 --width 0.35 --resolution 32 --classes 10 -o '" + model + "'", dir)
          .exit_code,
      0);
  return model;
}

// A tiny Fashion-MNIST shaped model: [1,1,28,28] -> Conv -> GAP -> Gemm.
std::string grey_model(const ScratchDir& dir) {
  onnx_test::OnnxBuilder b;
  b.input("x", {1, 1, 28, 28})
      .initializer("w", {4, 1, 3, 3}, onnx_test::ramp(36))
      .initializer("fc", {3, 4}, onnx_test::ramp(12))
      .output("y");
  b.node("Conv", {"x", "w"}, {"c"}, "conv").ints("strides", {2, 2});
  b.node("Relu", {"c"}, {"r"});
  b.node("GlobalAveragePool", {"r"}, {"g"}, "gap");
  b.node("Flatten", {"g"}, {"f"}, "flatten");
  b.node("Gemm", {"f", "fc"}, {"y"}, "fc").i("transB", 1);
  const std::string path = dir.file("grey.onnx");
  model::write_onnx_file(b.model(), path);
  return path;
}

TEST(CliQuantize, RandomCalibrationWritesAReadableMq) {
  ScratchDir dir("quantize_random");
  const std::string model = small_zoo_model(dir);
  const std::string mq = dir.file("mnv2.mq");
  const CliResult r =
      run_cli("quantize '" + model + "' --calib random --samples 3 --seed 4 -o '" + mq + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no progress bar: stderr is not a terminal
  EXPECT_NE(r.out.find("layers:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Conv "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weight bytes:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 samples from random (seed 4)"), std::string::npos) << r.out;
  const quant::QGraph q = quant::read_mq_file(mq);
  EXPECT_EQ(q.source_model, "mnv2.onnx");
  EXPECT_GT(q.layers.size(), 50u);

  const CliResult p = run_cli(
      "quantize '" + model + "' --calib random --samples 2 --percentile 99.9 -o '" + mq + "'", dir);
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("percentile 99.9"), std::string::npos) << p.out;
}

TEST(CliQuantize, ImageFolderAndIdxCalibration) {
  ScratchDir dir("quantize_sources");
  const std::string grey = grey_model(dir);
  const std::string mq = dir.file("grey.mq");
  const CliResult idx = run_cli(
      "quantize '" + grey + "' --calib '" + kFashion + "' --samples 20 -o '" + mq + "'", dir);
  ASSERT_EQ(idx.exit_code, 0) << idx.err;
  EXPECT_NE(idx.out.find("20 samples from IDX file"), std::string::npos) << idx.out;

  const CliResult folder = run_cli("quantize '" + grey + "' --calib '" + kImages +
                                       "' --mean 0.286 --std 0.353 --no-crop -o '" + mq + "'",
                                   dir);
  ASSERT_EQ(folder.exit_code, 0) << folder.err;
  EXPECT_NE(folder.out.find("4 samples from folder"), std::string::npos) << folder.out;
}

TEST(CliQuantize, BadInputExitsWithCode2) {
  ScratchDir dir("quantize_bad");
  const std::string model = small_zoo_model(dir);
  const std::string mq = dir.file("out.mq");
  std::filesystem::create_directories(dir.file("empty"));

  const CliResult empty =
      run_cli("quantize '" + model + "' --calib '" + dir.file("empty") + "' -o '" + mq + "'", dir);
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("no usable input"), std::string::npos) << empty.err;
  EXPECT_EQ(count_lines(empty.err), 1) << empty.err;

  // Fashion-MNIST's 28x28 grey images cannot feed a 32x32 RGB model.
  const CliResult wrong_size =
      run_cli("quantize '" + model + "' --calib '" + kFashion + "' -o '" + mq + "'", dir);
  EXPECT_EQ(wrong_size.exit_code, 2);
  EXPECT_NE(wrong_size.err.find("28x28"), std::string::npos) << wrong_size.err;

  const CliResult missing =
      run_cli("quantize '" + dir.file("none.onnx") + "' --calib random -o '" + mq + "'", dir);
  EXPECT_EQ(missing.exit_code, 2);

  const CliResult no_calib = run_cli("quantize '" + model + "' -o '" + mq + "'", dir);
  EXPECT_EQ(no_calib.exit_code, 2);
  const CliResult bad_mean = run_cli(
      "quantize '" + grey_model(dir) + "' --calib '" + kFashion + "' --mean 1,2,3 -o '" + mq + "'",
      dir);
  EXPECT_EQ(bad_mean.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(mq));
}

}  // namespace
}  // namespace mcusplit::testing
