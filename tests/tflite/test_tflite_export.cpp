// `export`: int8 graphs written as TFLite flatbuffers. Every file verifies
// and follows TFLite's conventions; imported back it gives the same layers
// and the same bits; layers
// TFLite cannot compute exactly are refused by name, and no file is left.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include "common/error.h"
#include "core/fixed_point.h"
#include "export_test_support.h"
#include "model/file_io.h"
#include "model/tensor_io.h"
#include "plan/random_models.h"
#include "quant/qgraph_builder.h"
#include "quant/quantized_zoo.h"
#include "support/required_data.h"
#include "tflite/tflite_export.h"

namespace mcusplit::tflite {
namespace {

using testing::expect_round_trip;
using testing::expect_valid_export;
using testing::not_importable;
using testing::operator_names;
using testing::random_input;

std::map<std::string, int> histogram(const std::vector<std::string>& names) {
  std::map<std::string, int> h;
  for (const std::string& n : names) ++h[n];
  return h;
}

// The export's refusal; fails the test unless it throws one line naming a layer.
std::string export_refusal(const quant::QGraph& g) {
  try {
    export_tflite(g);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitBadInput);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("cannot export layer '", 0), 0u) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "exported without an error";
  return "";
}

// Exports, checks the file, and round-trips it when the importer converts
// all its operators; returns those it does not (none, today).
std::set<std::string> export_and_check(const quant::QGraph& g, uint32_t seed) {
  const std::string bytes = export_tflite(g);
  expect_valid_export(bytes, g);
  std::set<std::string> missing = not_importable(bytes);
  if (missing.empty()) {
    expect_round_trip(g, bytes, {random_input(g, seed), random_input(g, seed + 1)});
  }
  return missing;
}

// ---- TFLM's person detection model ----

const std::string kModels = SHARED_MODELS_DIR;
const std::string kPersonDetect = kModels + "/person_detect.tflite";

// Imported, exported, imported again: the same layers and bits on TFLM's
// test images, and exporting that again writes the same bytes.
TEST(TfliteExport, PersonDetectRoundTripsExactly) {
  MCUSPLIT_REQUIRE_DATA(std::filesystem::exists(kPersonDetect),
                        "../shared/models (person_detect.tflite)");
  const quant::QGraph g = read_tflite_file(kPersonDetect);
  const std::string bytes = export_tflite(g);
  expect_valid_export(bytes, g);
  // 28 convolutions: one-group ones as CONV_2D, the rest DEPTHWISE_CONV_2D.
  int convs = 0;
  for (const quant::QLayer& l : g.layers)
    convs += l.op == quant::OpType::Conv && l.conv.groups == 1;
  EXPECT_EQ(histogram(operator_names(bytes)),
            (std::map<std::string, int>{{"AVERAGE_POOL_2D", 1},
                                        {"CONV_2D", convs},
                                        {"DEPTHWISE_CONV_2D", 28 - convs},
                                        {"RESHAPE", 1},
                                        {"SOFTMAX", 1}}));
  std::vector<std::vector<int8_t>> inputs;
  for (const char* name : {"person_int8.pb", "no_person_int8.pb"}) {
    const model::FloatTensor t = model::read_tensor_file(kModels + "/" + name);
    std::vector<int8_t> q;
    for (const float v : t.data) q.push_back(static_cast<int8_t>(v));
    inputs.push_back(q);
  }
  expect_round_trip(g, bytes, inputs);
  // (Compared as a flag: a failure should not print 300 KB.)
  EXPECT_TRUE(export_tflite(import_tflite(bytes, kPersonDetect)) == bytes);
}

// ---- the zoo MobileNetV2 ----

// Strided 3x3 convolutions pad top and left by 1 on even maps, which is not
// TFLite's SAME (it pads bottom and right): a PAD writes the padding, as
// PyTorch-to-TFLite converters do. The global average pool is MEAN over H
// and W; the head FULLY_CONNECTED.
TEST(TfliteExport, ZooMobileNetV2ExportsEveryLayer) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  const std::string bytes = export_tflite(g);
  expect_valid_export(bytes, g);
  std::map<std::string, int> ops = histogram(operator_names(bytes));
  int convs = 0, depthwise = 0;
  for (const quant::QLayer& l : g.layers) {
    if (l.op != quant::OpType::Conv) continue;
    ++(l.conv.groups == 1 ? convs : depthwise);
  }
  EXPECT_EQ(ops["CONV_2D"], convs);
  EXPECT_EQ(ops["DEPTHWISE_CONV_2D"], depthwise);
  EXPECT_EQ(ops["ADD"], 10);
  EXPECT_EQ(ops["MEAN"], 1);
  EXPECT_EQ(ops["FULLY_CONNECTED"], 1);
  EXPECT_GT(ops["PAD"], 0);
  EXPECT_EQ(export_and_check(g, 5), std::set<std::string>{});
}

// ---- random CNNs ----

// The random CNNs' multipliers come from random real values, which no
// float32 weight scale gives, and their concatenated branches and pools keep
// different quantizations: TFLite cannot express them, and the export says
// which layer.
TEST(TfliteExport, RandomCnnsAsBuiltAreRefusedByLayer) {
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    const quant::QGraph g = plan::testing::random_cnn(seed);
    const std::string why = export_refusal(g);
    EXPECT_TRUE(why.find("for no float32 w") != std::string::npos ||
                why.find("groups of") != std::string::npos ||
                why.find("does not rescale") != std::string::npos)
        << why;
  }
}

// A union-find over tensors that TFLite requires to share quantization.
int root_of(std::vector<int>& parent, int t) {
  while (parent[static_cast<size_t>(t)] != t) t = parent[static_cast<size_t>(t)];
  return t;
}

core::ActivationRange relu_if_clamped(const core::ActivationRange& a,
                                      const core::QuantParams& out) {
  return a == core::ActivationRange{} ? a : core::quantized_activation_range(out, 0.0f, INFINITY);
}

// The same random CNN as TFLite can express it: tensors that TFLite's pools,
// reshapes and concatenations pass through unscaled share one quantization,
// and every layer's integers are derived from the scales as a TFLite file
// states them (float32 weight scales near the layer's own gains).
quant::QGraph tflite_expressible(quant::QGraph g) {
  std::vector<int> parent(g.tensors.size());
  std::iota(parent.begin(), parent.end(), 0);
  const auto join = [&](int a, int b) {
    const int ra = root_of(parent, a), rb = root_of(parent, b);
    parent[static_cast<size_t>(std::max(ra, rb))] = std::min(ra, rb);
  };
  for (const quant::QLayer& l : g.layers) {
    const bool passes_through = l.op == quant::OpType::MaxPool ||
                                l.op == quant::OpType::AveragePool ||
                                l.op == quant::OpType::Reshape || l.op == quant::OpType::Concat;
    if (!passes_through) continue;
    for (const int in : l.inputs) join(in, l.output);
  }
  const std::vector<quant::QTensor> before = g.tensors;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    g.tensors[t].quant = before[static_cast<size_t>(root_of(parent, static_cast<int>(t)))].quant;
  }
  const auto q = [&](int t) { return g.tensors[static_cast<size_t>(t)].quant; };
  for (quant::QLayer& l : g.layers) {
    const core::QuantParams in = q(l.inputs[0]), out = q(l.output);
    const auto rederive = [&](size_t c, const core::QuantParams& old_in,
                              const core::QuantParams& old_out) {
      const double real = std::ldexp(static_cast<double>(l.multiplier[c]), l.shift[c] - 31);
      const auto w = static_cast<float>(real * static_cast<double>(old_out.scale) /
                                        static_cast<double>(old_in.scale));
      const core::QuantizedMultiplier m = core::quantize_multiplier(
          static_cast<double>(in.scale) * static_cast<double>(w) / static_cast<double>(out.scale));
      l.multiplier[c] = m.multiplier;
      l.shift[c] = m.shift;
    };
    const core::QuantParams old_in = before[static_cast<size_t>(l.inputs[0])].quant;
    const core::QuantParams old_out = before[static_cast<size_t>(l.output)].quant;
    switch (l.op) {
      case quant::OpType::Conv:
        for (size_t c = 0; c < l.multiplier.size(); ++c) rederive(c, old_in, old_out);
        l.conv.input_zero_point = in.zero_point;
        l.conv.output_zero_point = out.zero_point;
        l.conv.activation = relu_if_clamped(l.conv.activation, out);
        break;
      case quant::OpType::FullyConnected:
        for (size_t c = 0; c < l.multiplier.size(); ++c) rederive(c, old_in, old_out);
        l.fc.input_zero_point = in.zero_point;
        l.fc.output_zero_point = out.zero_point;
        l.fc.activation = relu_if_clamped(l.fc.activation, out);
        break;
      case quant::OpType::Add:
        l.add = kernels::make_int8_add_params(l.add.shape, in, q(l.inputs[1]), out,
                                              relu_if_clamped(l.add.activation, out));
        break;
      case quant::OpType::GlobalAveragePool:
        l.global_pool = kernels::make_int8_global_average_pool_params(l.global_pool.input, in, out);
        break;
      case quant::OpType::Concat:
        for (size_t i = 0; i < l.concat.size(); ++i) {
          kernels::set_int8_concat_quantization(l.concat[i], q(l.inputs[i]), out);
        }
        break;
      default:
        break;
    }
  }
  return g;
}

bool has_grouped_conv(const quant::QGraph& g) {
  for (const quant::QLayer& l : g.layers) {
    if (l.op == quant::OpType::Conv && l.conv.groups != 1 && l.conv.groups != l.conv.input.c) {
      return true;
    }
  }
  return false;
}

// Made expressible, every random CNN without a grouped convolution exports
// and comes back bit-exact; grouped convolutions are refused naming the layer.
TEST(TfliteExport, RandomCnnsMadeExpressibleExportAndRoundTrip) {
  int exported = 0, round_tripped = 0, refused = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("random_cnn(" + std::to_string(seed) + ")");
    const quant::QGraph g = tflite_expressible(plan::testing::random_cnn(seed));
    if (has_grouped_conv(g)) {
      EXPECT_NE(export_refusal(g).find("groups of"), std::string::npos);
      ++refused;
      continue;
    }
    ++exported;
    if (export_and_check(g, seed).empty()) ++round_tripped;
  }
  std::cout << "[ " << exported << " exported and " << round_tripped << " round-tripped, "
            << refused << " refused for grouped convolutions ]\n";
  EXPECT_EQ(round_tripped, exported);
  EXPECT_GT(exported, refused);
}

// The operators of person_detect and more, in one graph: SAME and VALID
// windows, a depth multiplier of 2, fused ReLUs, both pools, a reshape to a
// vector and a softmax; the file comes back with the same layers and bits.
TEST(TfliteExport, AHandBuiltGraphOfTheImportableOperatorsRoundTrips) {
  mcusplit::testing::QGraphBuilder b(9);
  int t = b.input({3, 12, 12});
  t = b.conv(t, 6, 3, 1, 1, 1, /*relu=*/true);              // SAME
  t = b.conv(t, 12, 3, 1, 0, /*groups=*/6, /*relu=*/true);  // VALID depthwise, multiplier 2
  t = b.pool(quant::OpType::MaxPool, t, 2, 2, 0);           // 10x10 -> 5x5
  t = b.pool(quant::OpType::AveragePool, t, 3, 1, 1);       // SAME
  t = b.conv(t, 4, 5, 1, 0);                                // 5x5 -> 1x1
  t = b.reshape(t, {4, 1, 1});
  quant::QGraph g = tflite_expressible(b.finish(t));
  quant::QLayer softmax;
  softmax.name = "probabilities";
  softmax.op = quant::OpType::Softmax;
  softmax.inputs = {g.output};
  g.tensors.push_back({"probabilities", {4, 1, 1}, {1.0f / 256.0f, -128}});
  softmax.output = static_cast<int>(g.tensors.size()) - 1;
  softmax.softmax = kernels::make_int8_softmax_params(
                        {4, 1, 1}, 1.0, g.tensors[static_cast<size_t>(g.output)].quant.scale)
                        .params;
  g.layers.push_back(softmax);
  g.output = softmax.output;
  // A name with a NUL byte (the fuzzer's find) is written whole, not cut there.
  g.tensors[static_cast<size_t>(g.input)].name = std::string("in\0put", 6);
  EXPECT_EQ(export_and_check(g, 9), std::set<std::string>{});
  const quant::QGraph back = import_tflite(export_tflite(g), "back.tflite");
  EXPECT_EQ(back.tensors[static_cast<size_t>(back.input)].name, std::string("in\0put", 6));
  EXPECT_EQ(operator_names(export_tflite(g)),
            (std::vector<std::string>{"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D",
                                      "AVERAGE_POOL_2D", "CONV_2D", "RESHAPE", "SOFTMAX"}));
}

// ---- refusals ----

TEST(TfliteExport, LayersTfliteComputesOtherwiseAreRefusedByName) {
  using mcusplit::testing::QGraphBuilder;
  {  // an ADD whose headroom shift is not TFLite's 20
    QGraphBuilder b(3);
    const int in = b.input({4, 6, 6});
    const int a = b.add(in, in);
    quant::QGraph g = tflite_expressible(b.finish(a));
    g.layers[0].add.left_shift = 18;
    EXPECT_NE(export_refusal(g).find("'Add_0' (Add): its rescaling (left shift 18)"),
              std::string::npos);
  }
  {  // an average pool padded on top and left only (padding not counted)
    QGraphBuilder b(4);
    const int in = b.input({3, 8, 8});
    const int p = b.pool(quant::OpType::AveragePool, in, 3, 2, 1);
    const quant::QGraph g = tflite_expressible(b.finish(p));
    EXPECT_NE(export_refusal(g).find("neither SAME nor VALID"), std::string::npos);
  }
  {  // the same window as a max pool: a PADV2 of -128 in front
    QGraphBuilder b(4);
    const int in = b.input({3, 8, 8});
    const int p = b.pool(quant::OpType::MaxPool, in, 3, 2, 1);
    const quant::QGraph g = tflite_expressible(b.finish(p));
    const std::string bytes = export_tflite(g);
    EXPECT_EQ(operator_names(bytes), (std::vector<std::string>{"PADV2", "MAX_POOL_2D"}));
  }
  {  // a clamp that is no fused activation
    QGraphBuilder b(5);
    const int in = b.input({2, 5, 5});
    quant::QGraph g = tflite_expressible(b.finish(b.conv(in, 4, 3, 1, 1)));
    g.layers[0].conv.activation = core::ActivationRange{-100, 100};
    EXPECT_NE(export_refusal(g).find("its output clamp [-100, 100] is none of"), std::string::npos);
  }
  {  // concatenated inputs quantized unlike the output (TFLite's copies)
    QGraphBuilder b(6);
    const int in = b.input({2, 5, 5});
    const quant::QGraph g = b.finish(b.concat({in, in}));
    EXPECT_NE(export_refusal(g).find("'Concat_0' (Concat): input 0"), std::string::npos);
  }
  {  // a softmax whose output is not TFLite's 1/256 steps
    QGraphBuilder b(7);
    const int in = b.input({10, 1, 1});
    quant::QGraph g = b.finish(b.reshape(in, {10, 1, 1}));
    quant::QLayer l;
    l.name = "probabilities";
    l.op = quant::OpType::Softmax;
    l.inputs = {g.output};
    g.tensors.push_back({"probs", {10, 1, 1}, {0.1f, 0}});
    l.output = static_cast<int>(g.tensors.size()) - 1;
    l.softmax = kernels::make_int8_softmax_params({10, 1, 1}, 1.0, 0.05).params;
    g.layers.push_back(l);
    g.output = l.output;
    EXPECT_NE(export_refusal(g).find("'probabilities' (Softmax): its output is quantized"),
              std::string::npos);
  }
}

// A refused export leaves no file, and an older file at the path untouched.
TEST(TfliteExport, ARefusedExportWritesNothing) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("mcusplit_export_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const quant::QGraph g = plan::testing::random_cnn(1);
  const std::string fresh = (dir / "fresh.tflite").string();
  EXPECT_THROW(write_tflite_file(g, fresh), Error);
  EXPECT_FALSE(std::filesystem::exists(fresh));
  const std::string old = (dir / "old.tflite").string();
  std::ofstream(old) << "older";
  EXPECT_THROW(write_tflite_file(g, old), Error);
  EXPECT_EQ(model::read_file_bytes(old), "older");
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().string());
  EXPECT_EQ(left.size(), 1u);  // no temporary file either
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mcusplit::tflite
