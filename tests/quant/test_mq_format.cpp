// The .mq format: exact round trips (every field of every layer type), the
// atomic write, and corrupt, truncated, foreign and future files.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/error_matchers.h"
#include "quant/mq_format.h"
#include "quant/quant_test_models.h"
#include "quant/quantize_helpers.h"

namespace mcusplit::quant {
namespace {

namespace fs = std::filesystem;
using onnx_test::expect_error;
using quant_test::temp_file;

// Field-by-field equality; the kernel params are compared through their
// integer members (pointer members stay null in a QGraph).
void expect_same_layer(const QLayer& a, const QLayer& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.bias, b.bias);
  EXPECT_EQ(a.multiplier, b.multiplier);
  EXPECT_EQ(a.shift, b.shift);
  // Every parameter block, pointers included: a layer read from a file has
  // none bound, like the quantizer's.
  EXPECT_EQ(static_cast<const kernels::OpParams&>(a), static_cast<const kernels::OpParams&>(b))
      << a.name;
  ASSERT_EQ(a.concat.size(), b.concat.size());
  for (size_t i = 0; i < a.concat.size(); ++i) {
    EXPECT_EQ(a.concat[i], b.concat[i]) << a.name;
  }
}

void expect_same_graph(const QGraph& a, const QGraph& b) {
  EXPECT_EQ(a.source_model, b.source_model);
  EXPECT_EQ(a.input, b.input);
  EXPECT_EQ(a.output, b.output);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    EXPECT_EQ(a.tensors[t].name, b.tensors[t].name);
    EXPECT_EQ(a.tensors[t].shape, b.tensors[t].shape);
    EXPECT_EQ(std::memcmp(&a.tensors[t].quant.scale, &b.tensors[t].quant.scale, 4), 0);
    EXPECT_EQ(a.tensors[t].quant.zero_point, b.tensors[t].quant.zero_point);
  }
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) expect_same_layer(a.layers[l], b.layers[l]);
}

// Every layer type: the small MobileNetV2 (Conv, Add, GAP, Reshape, FC) and
// a graph with pools and a concat.
QGraph all_layer_types() {
  QGraph q = quant_test::quantize_with_random(quant_test::small_mobilenetv2(), 2);
  onnx_test::OnnxBuilder b;
  b.input("x", {1, 2, 6, 6}).initializer("w", {3, 2, 1, 1}, onnx_test::ramp(6)).output("y");
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("MaxPool", {"c"}, {"m"}, "max").ints("kernel_shape", {2, 2}).ints("strides", {2, 2});
  b.node("AveragePool", {"c"}, {"a"}, "avg").ints("kernel_shape", {2, 2}).ints("strides", {2, 2});
  b.node("Concat", {"m", "a"}, {"y"}, "cat").i("axis", 1);
  const QGraph extra = quant_test::quantize_with_random(quant_test::prepared(b), 2);
  // Append the extra graph's layers with renumbered tensors (a valid QGraph).
  const int offset = static_cast<int>(q.tensors.size());
  q.tensors.insert(q.tensors.end(), extra.tensors.begin(), extra.tensors.end());
  for (QLayer l : extra.layers) {
    for (int& t : l.inputs) t += offset;
    l.output += offset;
    q.layers.push_back(l);
  }
  return q;
}

TEST(MqFormat, RoundTripIsExact) {
  const QGraph q = all_layer_types();
  const std::string bytes = serialize_mq(q);
  const QGraph back = parse_mq(bytes, "mem.mq");
  expect_same_graph(q, back);
  EXPECT_EQ(serialize_mq(back), bytes);
  EXPECT_EQ(bytes.compare(0, 8, "MCUSPLMQ"), 0);

  const std::string path = temp_file("round.mq");
  write_mq_file(q, path);
  expect_same_graph(q, read_mq_file(path));
  // The temporary file was renamed away: only round.mq is left.
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
    EXPECT_EQ(e.path().string().find(fs::path(path).filename().string() + ".tmp"),
              std::string::npos);
  }
  std::remove(path.c_str());
}

TEST(MqFormat, BadFilesFailNamingFileAndProblem) {
  const std::string good =
      serialize_mq(quant_test::quantize_with_random(quant_test::small_mobilenetv2(), 2));
  const auto error_of = [](const std::string& bytes) {
    try {
      parse_mq(bytes, "model.mq");
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kExitBadInput);
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted a bad file";
    return std::string();
  };
  const auto expect_contains = [](const std::string& message, const std::string& piece) {
    EXPECT_NE(message.find(piece), std::string::npos) << message;
    EXPECT_NE(message.find("model.mq"), std::string::npos) << message;
  };
  expect_contains(error_of(""), "bad magic");
  expect_contains(error_of("MCUSPLMQ"), "truncated");
  expect_contains(error_of("PK\x03\x04 a zip file, say"), "bad magic");
  std::string version = good;
  version[8] = static_cast<char>(kMqFormatVersion + 1);
  expect_contains(error_of(version), "version " + std::to_string(kMqFormatVersion + 1));
  for (size_t cut : {size_t{30}, good.size() / 2, good.size() - 1}) {
    expect_contains(error_of(good.substr(0, cut)), "truncated");
  }
  expect_contains(error_of(good + "x"), "beyond the payload");
  // One flipped bit anywhere in the payload: the checksum catches it.
  for (size_t at : {size_t{24}, good.size() / 3, good.size() - 1}) {
    std::string flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    expect_contains(error_of(flipped), "checksum");
  }
  std::string crc = good;
  crc[12] = static_cast<char>(crc[12] ^ 1);
  expect_contains(error_of(crc), "checksum");
}

TEST(MqFormat, ReadAndWriteErrors) {
  const std::string missing = temp_file("missing.mq");
  expect_error([&] { read_mq_file(missing); }, {"cannot open", missing});
  const std::string nowhere = temp_file("no_such_dir") + "/model.mq";
  expect_error([&] { write_mq_file(QGraph{}, nowhere); }, {"cannot write", nowhere});
  EXPECT_FALSE(fs::exists(nowhere));

  // A well-formed file holding an inconsistent graph is rejected too.
  QGraph q = quant_test::quantize_with_random(quant_test::small_mobilenetv2(), 2);
  q.layers[0].weights.pop_back();
  expect_error([&] { parse_mq(serialize_mq(q), "odd.mq"); }, {"odd.mq", "weight count"});
  q.layers[0].output = 9999;
  expect_error([&] { parse_mq(serialize_mq(q), "odd.mq"); }, {"out of range"});
}

}  // namespace
}  // namespace mcusplit::quant

namespace mcusplit::quant {
namespace {

// A per-tensor fully connected layer keeps one bias per neuron (the kernel
// reads one per neuron) but a single requantization pair.
TEST(MqFormat, PerTensorFullyConnectedKeepsPerNeuronBias) {
  QGraph g;
  g.tensors = {QTensor{"in", {4, 1, 1}, {}}, QTensor{"out", {3, 1, 1}, {}}};
  g.input = 0;
  g.output = 1;
  QLayer l;
  l.name = "fc";
  l.op = OpType::FullyConnected;
  l.inputs = {0};
  l.output = 1;
  l.fc.input_size = 4;
  l.fc.output_size = 3;
  l.fc.per_tensor_requant = true;
  l.fc.weights_n0 = 0;
  l.fc.weights_n1 = 3;
  l.weights.assign(12, 1);
  l.bias = {1, 2, 3};
  l.multiplier = {1 << 30};
  l.shift = {0};
  g.layers.push_back(l);
  const QGraph back = parse_mq(serialize_mq(g), "fc.mq");
  EXPECT_EQ(back.layers[0].bias, l.bias);
  g.layers[0].bias = {1};
  EXPECT_THROW(parse_mq(serialize_mq(g), "fc.mq"), Error);
}

}  // namespace
}  // namespace mcusplit::quant
