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
  const auto& c = a.conv;
  const auto& d = b.conv;
  EXPECT_TRUE(c.input == d.input && c.output == d.output && c.kernel_h == d.kernel_h &&
              c.kernel_w == d.kernel_w && c.stride_h == d.stride_h && c.stride_w == d.stride_w &&
              c.dilation_h == d.dilation_h && c.dilation_w == d.dilation_w &&
              c.pad_top == d.pad_top && c.pad_left == d.pad_left && c.groups == d.groups &&
              c.input_zero_point == d.input_zero_point &&
              c.output_zero_point == d.output_zero_point && c.activation.min == d.activation.min &&
              c.activation.max == d.activation.max && c.weights_c0 == d.weights_c0 &&
              c.weights_c1 == d.weights_c1 && d.weights == nullptr)
      << a.name;
  const auto& f = a.fc;
  const auto& g = b.fc;
  EXPECT_TRUE(f.input_size == g.input_size && f.output_size == g.output_size &&
              f.input_zero_point == g.input_zero_point &&
              f.output_zero_point == g.output_zero_point && f.activation.min == g.activation.min &&
              f.activation.max == g.activation.max &&
              f.per_tensor_requant == g.per_tensor_requant && f.weights_n0 == g.weights_n0 &&
              f.weights_n1 == g.weights_n1)
      << a.name;
  EXPECT_EQ(std::memcmp(&a.add, &b.add, sizeof a.add), 0) << a.name;  // all int32
  EXPECT_EQ(std::memcmp(&a.pool, &b.pool, sizeof a.pool), 0) << a.name;
  EXPECT_EQ(std::memcmp(&a.global_pool, &b.global_pool, sizeof a.global_pool), 0) << a.name;
  ASSERT_EQ(a.concat.size(), b.concat.size());
  for (size_t i = 0; i < a.concat.size(); ++i) {
    EXPECT_EQ(std::memcmp(&a.concat[i], &b.concat[i], sizeof a.concat[i]), 0) << a.name;
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
  version[8] = 2;
  expect_contains(error_of(version), "version 2");
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
  l.op = QOpType::FullyConnected;
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
