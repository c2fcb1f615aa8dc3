// Bad .tflite input: every problem is one mcusplit::Error line naming it,
// exit code 2, never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "common/error.h"
#include "model/file_io.h"
#include "tflite/tflite_import.h"
#include "tflite_builder.h"

namespace mcusplit::tflite {
namespace {

using testing::TestModel;
using testing::TestOp;

// input [1,4,4,2] -> CONV_2D 3x3 SAME (3 channels) -> output [1,4,4,3].
TestModel small_conv() {
  TestModel m;
  const int32_t in = m.add_tensor({{1, 4, 4, 2}, fb::TensorType::INT8, 0, "input", {0.1f}, {0}});
  const int32_t filter = m.add_tensor({{3, 3, 3, 2},
                                       fb::TensorType::INT8,
                                       m.add_buffer(std::vector<int8_t>(54, 3)),
                                       "filter",
                                       {0.01f},
                                       {0}});
  const int32_t out = m.add_tensor({{1, 4, 4, 3}, fb::TensorType::INT8, 0, "output", {0.2f}, {-1}});
  TestOp op;
  op.inputs = {in, filter, -1};
  op.outputs = {out};
  op.options_type = fb::BuiltinOptions::Conv2DOptions;
  op.options = testing::conv_options(fb::Padding::SAME, 1, fb::ActivationFunctionType::NONE);
  m.ops.push_back(op);
  m.inputs = {in};
  m.outputs = {out};
  return m;
}

// The import's error message; fails the test unless it throws one with exit
// code 2 on a single line.
std::string import_error(const std::string& bytes) {
  try {
    import_tflite(bytes, "bad.tflite");
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitBadInput) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "imported without an error";
  return "";
}

TEST(TfliteBadInput, TheSmallModelImports) {
  EXPECT_EQ(import_tflite(small_conv().serialize(), "ok.tflite").layers.size(), 1u);
}

TEST(TfliteBadInput, TruncatedFilesNameTheProblem) {
  const std::string bytes = small_conv().serialize();
  EXPECT_NE(import_error(bytes.substr(0, 5)).find("too short"), std::string::npos);
  for (size_t n = 8; n < bytes.size(); n += 7) {
    const std::string e = import_error(bytes.substr(0, n));
    EXPECT_NE(e.find("bad.tflite"), std::string::npos) << e;
  }
  EXPECT_NE(import_error(bytes.substr(0, bytes.size() / 2)).find("corrupt or truncated"),
            std::string::npos);
}

TEST(TfliteBadInput, RandomBytesAndAWrongIdentifierAreRefused) {
  std::mt19937 gen(3);
  std::string random(300, '\0');
  for (char& c : random) c = static_cast<char>(gen());
  random.replace(4, 4, "TFL3");
  EXPECT_NE(import_error(random).find("corrupt or truncated"), std::string::npos);
  std::string other = small_conv().serialize();
  other.replace(4, 4, "ABCD");
  EXPECT_NE(import_error(other).find("file identifier 'ABCD', expected 'TFL3'"), std::string::npos);
}

TEST(TfliteBadInput, FlippedBytesNeverCrash) {
  const std::string bytes = small_conv().serialize();
  std::mt19937 gen(5);
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string mutated = bytes;
    const size_t at = gen() % mutated.size();
    mutated[at] = static_cast<char>(gen());
    try {
      import_tflite(mutated, "mutated.tflite");
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kExitBadInput);
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(TfliteBadInput, OutOfRangeIndicesAreNamed) {
  TestModel buffer = small_conv();
  buffer.tensors[1].buffer = 99;
  EXPECT_NE(import_error(buffer.serialize()).find("names buffer 99 but the model has 2 buffers"),
            std::string::npos);
  TestModel tensor = small_conv();
  tensor.ops[0].inputs[0] = 57;
  EXPECT_NE(import_error(tensor.serialize()).find("operator 0's input list names tensor 57"),
            std::string::npos);
  TestModel graph_input = small_conv();
  graph_input.inputs = {-4};
  EXPECT_NE(import_error(graph_input.serialize()).find("input list names tensor -4"),
            std::string::npos);
}

TEST(TfliteBadInput, AShapeThatDisagreesWithItsBufferIsNamed) {
  TestModel m = small_conv();
  m.tensors[1].shape = {3, 3, 3, 3};
  EXPECT_NE(import_error(m.serialize())
                .find("tensor 'filter' (index 1) has shape [3, 3, 3, 3] of INT8 but its buffer 1 "
                      "holds 54 bytes"),
            std::string::npos);
}

TEST(TfliteBadInput, FloatModelsAreRefusedNamingTheType) {
  TestModel m = small_conv();
  m.tensors[0].type = fb::TensorType::FLOAT32;
  EXPECT_NE(import_error(m.serialize()).find("'input' (tensor 0) is FLOAT32; only int8 models"),
            std::string::npos);
  TestModel int16 = small_conv();
  int16.tensors[2].type = fb::TensorType::INT16;
  EXPECT_NE(import_error(int16.serialize()).find("'output' (tensor 2) is INT16"),
            std::string::npos);
}

TEST(TfliteBadInput, UnsupportedOperatorsAreNamedWithTheSupportedList) {
  TestModel m = small_conv();
  m.ops[0].code = 18;  // MUL
  m.ops[0].options_type = fb::BuiltinOptions::NONE;
  m.ops[0].options = nullptr;
  const std::string e = import_error(m.serialize());
  EXPECT_NE(e.find("operator 0 (MUL): is not supported; supported operators: CONV_2D, "
                   "DEPTHWISE_CONV_2D"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("SOFTMAX"), std::string::npos) << e;
}

TEST(TfliteBadInput, OtherVersionsAndWrongShapesAreNamed) {
  TestModel v = small_conv();
  v.version = 2;
  EXPECT_NE(import_error(v.serialize()).find("schema version 2, expected 3"), std::string::npos);
  TestModel out = small_conv();
  out.tensors[2].shape = {1, 3, 4, 3};
  EXPECT_NE(import_error(out.serialize()).find("is 3x4 but the window gives 4x4"),
            std::string::npos);
  TestModel no_options = small_conv();
  no_options.ops[0].options_type = fb::BuiltinOptions::NONE;
  no_options.ops[0].options = nullptr;
  EXPECT_NE(import_error(no_options.serialize()).find("has no Conv2DOptions"), std::string::npos);
}

// The fuzzer's find: a file that verifies but whose int64 zero points sit
// 4 bytes off their alignment (reading them is undefined behaviour).
TEST(TfliteBadInput, MisalignedZeroPointsAreRefused) {
  const std::string bytes = model::read_file_bytes(
      std::string(MCUSPLIT_SOURCE_DIR) + "/fuzz/corpus/tflite/misaligned_zero_points.tflite");
  EXPECT_NE(import_error(bytes).find("has misaligned zero points"), std::string::npos);
}

// The committed fuzz corpus (seeds and the fuzzer's finds: a shape whose
// element count overflows, an output scale so small its ReLU6 bound
// overflows int32, a NUL in a tensor name, a stride of 2^31 - 1 that
// overflowed the window arithmetic): each imports or is refused with
// one line (the asan preset runs this under the sanitizers).
TEST(TfliteBadInput, TheFuzzCorpusImportsOrIsRefusedByLine) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(MCUSPLIT_SOURCE_DIR) +
                                                               "/fuzz/corpus/tflite")) {
    const std::string bytes = model::read_file_bytes(entry.path().string());
    ++files;
    try {
      import_tflite(bytes, entry.path().filename().string());
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kExitBadInput) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  EXPECT_GE(files, 5);
}

}  // namespace
}  // namespace mcusplit::tflite
