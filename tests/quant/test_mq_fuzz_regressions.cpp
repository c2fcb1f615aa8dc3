// .mq files fuzz_mq found the reader mishandling (docs/fuzzing.md): each
// must be refused with a message naming the file, the tensor or layer and
// the problem.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <string>

#include "model/error_matchers.h"
#include "quant/mq_format.h"

namespace mcusplit::quant {
namespace {

using onnx_test::expect_error;

// A valid graph: one per-tensor fully connected layer, 4 inputs to 3 outputs.
QGraph per_tensor_fully_connected() {
  QGraph g;
  g.tensors = {QTensor{"in", {4, 1, 1}, {0.5f, 0}}, QTensor{"out", {3, 1, 1}, {0.25f, -1}}};
  g.input = 0;
  g.output = 1;
  QLayer l;
  l.name = "fc";
  l.op = OpType::FullyConnected;
  l.inputs = {0};
  l.output = 1;
  l.fc.input_size = 4;
  l.fc.output_size = 3;
  l.fc.output_zero_point = -1;
  l.fc.per_tensor_requant = true;
  l.fc.weights_n0 = 0;
  l.fc.weights_n1 = 3;
  l.weights.assign(12, 1);
  l.bias = {1, 2, 3};
  l.multiplier = {1 << 30};
  l.shift = {-3};
  g.layers.push_back(l);
  return g;
}

// The header's CRC-32 made right again after a payload byte changed.
void reseal(std::string& bytes) {
  const auto* payload = reinterpret_cast<const Bytef*>(bytes.data() + kMqHeaderBytes);
  const auto crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), payload, static_cast<uInt>(bytes.size() - kMqHeaderBytes)));
  for (int i = 0; i < 4; ++i) bytes[12 + i] = static_cast<char>(crc >> (8 * i));
}

TEST(MqFuzzRegressions, TheGraphItselfRoundTrips) {
  const std::string bytes = serialize_mq(per_tensor_fully_connected());
  EXPECT_EQ(serialize_mq(parse_mq(bytes, "fc.mq")), bytes);
}

// A tensor of 4 x 1526726657 x 1 elements: validate_qgraph used to hand it to
// the fully connected layer's check, whose int32 volume() overflowed.
TEST(MqFuzzRegressions, ATensorOfMoreThanInt32MaxElementsIsRefused) {
  QGraph g = per_tensor_fully_connected();
  g.tensors[0].shape = {4, 1526726657, 1};
  expect_error([&] { parse_mq(serialize_mq(g), "huge.mq"); },
               {"huge.mq", "tensor 'in'", "4x1526726657x1", "more than 2^31 - 1 elements"});
  // Each dim under 2^31, their product over 2^62: no int64 overflow either.
  g.tensors[0].shape = {2000000000, 2000000000, 2000000000};
  expect_error([&] { parse_mq(serialize_mq(g), "huge.mq"); }, {"more than 2^31 - 1 elements"});
}

// per_tensor_requant = 39 read as true and was written back as 1: two files
// for one model, and the round trip fuzz_mq checks broke.
TEST(MqFuzzRegressions, AFlagOtherThanZeroOrOneIsRefused) {
  const QGraph g = per_tensor_fully_connected();
  std::string bytes = serialize_mq(g);
  // The flag follows the layer's name "fc", its type, input list, output
  // and the six i32 params before it (docs/mq_format.md).
  const size_t name = bytes.find("fc", kMqHeaderBytes + 20);
  ASSERT_NE(name, std::string::npos);
  const size_t flag = name + 2 + 1 + 4 + 4 + 4 + 6 * 4;
  ASSERT_EQ(bytes[flag], 1);
  bytes[flag] = 39;
  reseal(bytes);
  expect_error([&] { parse_mq(bytes, "flag.mq"); },
               {"flag.mq", "layer 'fc'", "per_tensor_requant is 39, not 0 or 1", "corrupt .mq"});
  // The same byte at 1 (the resealed original) still reads.
  bytes[flag] = 1;
  reseal(bytes);
  EXPECT_NO_THROW(parse_mq(bytes, "flag.mq"));
}

}  // namespace
}  // namespace mcusplit::quant
