// `infer` and `inspect` on .mq models: the int8 executor through the command
// line, its arena figures, the INT8 output tensor, and bad input.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"
#include "model/image_input.h"
#include "model/tensor_io.h"
#include "quant/int8_executor.h"
#include "quant/mq_format.h"

namespace mcusplit::testing {
namespace {

const std::string kImage =
    std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images/fashion_test0_ankle-boot.pgm";

// One small quantized zoo model shared by the tests of this file.
class CliInt8 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<ScratchDir>("cli_int8");
    mq_ = make_small_mq(*dir_, 3);
    ASSERT_FALSE(mq_.empty());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::unique_ptr<ScratchDir> dir_;
  static std::string mq_;
};

std::unique_ptr<ScratchDir> CliInt8::dir_;
std::string CliInt8::mq_;

TEST_F(CliInt8, InspectJsonReportsArenaMacsAndFlash) {
  const CliResult r = run_cli("inspect '" + mq_ + "' --json", *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const quant::QGraph g = quant::read_mq_file(mq_);
  ASSERT_EQ(j["layers"].size(), g.layers.size());
  int64_t macs = 0;
  int64_t flash = 0;
  int64_t peak_io = 0;
  for (const auto& l : j["layers"]) {
    macs += l["macs"].get<int64_t>();
    flash += l["weight_bytes"].get<int64_t>();
    peak_io = std::max(peak_io, l["io_bytes_int8"].get<int64_t>());
  }
  EXPECT_EQ(j["macs"].get<int64_t>(), macs);
  EXPECT_EQ(j["flash_bytes"].get<int64_t>(), flash);
  EXPECT_EQ(j["peak_layer_io_bytes_int8"].get<int64_t>(), peak_io);
  EXPECT_EQ(j["arena_bytes"].get<int64_t>(), quant::plan_arena(g).arena_bytes());
  EXPECT_GE(j["arena_bytes"].get<int64_t>(), peak_io);
  EXPECT_EQ(j["layers"][0]["op"], "Conv");
  EXPECT_EQ(j["layers"][0]["output_shape"], (model::Dims{1, 16, 32, 32}));
  EXPECT_EQ(j["layers"].back()["op"], "FullyConnected");
  EXPECT_EQ(j["layers"].back()["output_shape"], (model::Dims{1, 10}));
}

TEST_F(CliInt8, InspectTablePrintsTotals) {
  const CliResult r = run_cli("inspect '" + mq_ + "'", *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("FullyConnected"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("arena (one device, planned): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flash (weights, bias, requantization): "), std::string::npos) << r.out;
}

TEST_F(CliInt8, InferJsonArenaEqualsHighWaterAndWritesInt8Output) {
  const std::string out = dir_->file("logits_int8.pb");
  const CliResult r =
      run_cli("infer '" + mq_ + "' --input '" + kImage + "' --json --output '" + out + "'", *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const int64_t arena = j["arena_bytes"].get<int64_t>();
  EXPECT_GT(arena, 0);
  EXPECT_EQ(j["arena_high_water_bytes"].get<int64_t>(), arena);
  const auto& top5 = j["outputs"][0]["top5"][0];
  ASSERT_EQ(top5.size(), 5u);
  EXPECT_EQ(j["outputs"][0]["shape"], (model::Dims{1, 10}));

  // The file is an INT8 TensorProto holding exactly the executor's output.
  std::ifstream f(out, std::ios::binary);
  onnx::TensorProto proto;
  ASSERT_TRUE(proto.ParseFromIstream(&f));
  EXPECT_EQ(proto.data_type(), onnx::TensorProto::INT8);
  ASSERT_EQ(proto.dims_size(), 2);
  EXPECT_EQ(proto.dims(1), 10);
  const quant::QGraph g = quant::read_mq_file(mq_);
  quant::Int8Executor exec(g);
  const auto image = model::load_image_tensor(kImage, {1, 3, 64, 64}, model::ImagePreprocessing{});
  const auto want = exec.run(quant::quantize_input(g, image.data));
  ASSERT_EQ(proto.raw_data().size(), want.size());
  EXPECT_EQ(std::memcmp(proto.raw_data().data(), want.data(), want.size()), 0);
  // The reported best class is the arg-max of the int8 values (scale > 0).
  int64_t best = 0;
  for (int64_t i = 1; i < 10; ++i) {
    if (want[static_cast<size_t>(i)] > want[static_cast<size_t>(best)]) best = i;
  }
  EXPECT_EQ(top5[0]["index"].get<int64_t>(), best);
  // The generic reader takes it back as floats.
  EXPECT_EQ(model::read_tensor_file(out).data[static_cast<size_t>(best)],
            static_cast<float>(want[static_cast<size_t>(best)]));
}

TEST_F(CliInt8, InferTextAndTensorInput) {
  const std::string input = dir_->file("input.pb");
  model::FloatTensor x(model::Dims{1, 3, 64, 64});
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
  model::write_tensor_file(input, "input", x);
  const CliResult r = run_cli("infer '" + mq_ + "' --input '" + input + "'", *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("output output [1, 10]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bytes high water"), std::string::npos) << r.out;

  model::write_tensor_file(input, "input", model::FloatTensor(model::Dims{1, 3, 32, 32}));
  const CliResult bad = run_cli("infer '" + mq_ + "' --input '" + input + "'", *dir_);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("[1, 3, 64, 64]"), std::string::npos) << bad.err;
}

TEST_F(CliInt8, CorruptMqIsBadInput) {
  std::string bytes = read_text_file(mq_);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
  const std::string corrupt = dir_->file("corrupt.mq");
  std::ofstream(corrupt, std::ios::binary) << bytes;
  for (const std::string verb : {"inspect", "infer"}) {
    const std::string extra = verb == "infer" ? " --input '" + kImage + "'" : "";
    const CliResult r = run_cli(verb + " '" + corrupt + "'" + extra, *dir_);
    EXPECT_EQ(r.exit_code, 2) << verb;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
}

// The figure issue 3 asks for: MobileNetV2-1.0 at 224 needs a single-device
// arena of 1,505,280 bytes (the layer-by-layer peak; no residual is alive at
// that layer), and the measured high water agrees.
TEST(CliInt8MobileNetV2, ArenaAt224) {
  ScratchDir dir("cli_int8_224");
  const std::string onnx = dir.file("mnv2.onnx");
  ASSERT_EQ(run_cli("zoo mobilenetv2 --width 1.0 --resolution 224 --classes 1000 --seed 1 -o '" +
                        onnx + "'",
                    dir)
                .exit_code,
            0);
  const std::string mq = dir.file("mnv2.mq");
  ASSERT_EQ(
      run_cli("quantize '" + onnx + "' --calib random --samples 2 -o '" + mq + "'", dir).exit_code,
      0);
  const CliResult inspect = run_cli("inspect '" + mq + "' --json", dir);
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const auto j = nlohmann::json::parse(inspect.out);
  // The peak layer's input and output, and its kernel's scratch.
  EXPECT_EQ(j["arena_bytes"].get<int64_t>(), 1'505'280 + 2'368);
  EXPECT_EQ(j["peak_layer_io_bytes_int8"].get<int64_t>(), 1'505'280);
  EXPECT_EQ(j["macs"].get<int64_t>(), 300'774'272);

  const CliResult infer =
      run_cli("infer '" + mq + "' --input '" + std::string(MCUSPLIT_SOURCE_DIR) +
                  "/tests/data/images/fashion_test0_ankle-boot.pgm' --json",
              dir);
  ASSERT_EQ(infer.exit_code, 0) << infer.err;
  const auto k = nlohmann::json::parse(infer.out);
  EXPECT_EQ(k["arena_bytes"].get<int64_t>(), 1'505'280 + 2'368);
  EXPECT_EQ(k["arena_high_water_bytes"].get<int64_t>(), 1'505'280 + 2'368);
}

}  // namespace
}  // namespace mcusplit::testing
