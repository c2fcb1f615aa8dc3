// FULLY_CONNECTED, ADD, CONCATENATION and MEAN imported from small models
// (tflite_builder.h) and run on the int8 executor, against TFLM's reference
// int8 arithmetic written out here: FullyConnected (flat NHWC input, filter
// [N][K], per-tensor or per-channel multipliers), Add (left shift 20, inputs
// rescaled to twice the larger input scale), Concatenation (a byte copy) and
// reference_integer_ops::Mean (keep_dims over height and width).
#include <gtest/gtest.h>

#include <random>

#include "common/error.h"
#include "core/fixed_point.h"
#include "quant/int8_executor.h"
#include "tflite/tflite_import.h"
#include "tflite_builder.h"

namespace mcusplit::tflite {
namespace {

using testing::make_op;
using testing::TestModel;
using testing::TestTensor;
using Act = fb::ActivationFunctionType;

std::vector<int8_t> random_int8(size_t n, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 gen(seed);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(std::uniform_int_distribution<int>(lo, hi)(gen));
  return v;
}

int32_t volume(const std::vector<int32_t>& shape) {
  int32_t n = 1;
  for (const int32_t d : shape) n *= d;
  return n;
}

// TFLite's CalculateActivationRangeQuantized for NONE, RELU, RELU6.
std::pair<int32_t, int32_t> act_range(Act act, float scale, int32_t zp) {
  const auto q = [&](float f) { return zp + static_cast<int32_t>(std::round(f / scale)); };
  int32_t lo = -128, hi = 127;
  if (act == Act::RELU || act == Act::RELU6) lo = std::max(lo, q(0.0f));
  if (act == Act::RELU6) hi = std::min(hi, q(6.0f));
  return {lo, hi};
}

int32_t mbqm(int32_t x, double real) {
  const core::QuantizedMultiplier m = core::quantize_multiplier(real);
  return core::multiply_by_quantized_multiplier(x, m.multiplier, m.shift);
}

// ---- FULLY_CONNECTED ----

struct FcCase {
  std::vector<int32_t> in_shape{1, 12};
  int32_t n = 5;
  bool per_channel = false;
  Act act = Act::NONE;
  bool bias = true;
};

constexpr float kInScale = 0.04f, kOutScale = 0.15f;
constexpr int32_t kInZp = 7, kOutZp = -9;

void expect_fc_matches_tflite(const FcCase& c, uint32_t seed) {
  const int32_t k = volume(c.in_shape);
  const std::vector<int8_t> filter = random_int8(static_cast<size_t>(c.n * k), seed, -127, 127);
  std::vector<int32_t> bias;
  std::vector<float> scales;
  for (int32_t o = 0; o < c.n; ++o) {
    bias.push_back(static_cast<int32_t>(seed * 37 + static_cast<uint32_t>(o) * 911) % 3001 - 1500);
    scales.push_back(0.003f + 0.001f * static_cast<float>(o));
  }
  if (!c.per_channel) scales.assign(1, 0.0041f);
  TestModel m;
  const int32_t in = m.add_tensor({c.in_shape, fb::TensorType::INT8, 0, "in", {kInScale}, {kInZp}});
  const int32_t w = m.add_tensor({{c.n, k},
                                  fb::TensorType::INT8,
                                  m.add_buffer(filter),
                                  "w",
                                  scales,
                                  std::vector<int64_t>(scales.size(), 0)});
  const int32_t b =
      c.bias ? m.add_tensor({{c.n}, fb::TensorType::INT32, m.add_buffer(bias), "b", {}, {}}) : -1;
  const int32_t out =
      m.add_tensor({{1, c.n}, fb::TensorType::INT8, 0, "out", {kOutScale}, {kOutZp}});
  m.ops.push_back(make_op(kFullyConnected, {in, w, b}, {out},
                          fb::BuiltinOptions::FullyConnectedOptions,
                          testing::fully_connected_options(c.act)));
  m.inputs = {in};
  m.outputs = {out};
  const quant::QGraph g = import_tflite(m.serialize(), "fc.tflite");
  ASSERT_EQ(g.layers.size(), 1u);
  EXPECT_EQ(g.layers[0].fc.per_tensor_requant, !c.per_channel);

  const std::vector<int8_t> input = random_int8(static_cast<size_t>(k), seed + 1);
  const auto [lo, hi] = act_range(c.act, kOutScale, kOutZp);
  std::vector<int8_t> expected;
  for (int32_t o = 0; o < c.n; ++o) {
    int32_t acc = 0;
    for (int32_t j = 0; j < k; ++j) {
      acc += (input[static_cast<size_t>(j)] - kInZp) * filter[static_cast<size_t>(o * k + j)];
    }
    if (c.bias) acc += bias[static_cast<size_t>(o)];
    const float ws = scales[c.per_channel ? static_cast<size_t>(o) : 0];
    acc = mbqm(acc, static_cast<double>(kInScale) * static_cast<double>(ws) /
                        static_cast<double>(kOutScale)) +
          kOutZp;
    expected.push_back(static_cast<int8_t>(std::clamp(acc, lo, hi)));
  }
  EXPECT_EQ(quant::Int8Executor(g).run(input), expected) << "seed " << seed;
}

TEST(TfliteImportOps, FullyConnectedComputesWhatTfliteComputes) {
  uint32_t seed = 10;
  for (const bool per_channel : {false, true}) {
    for (const Act act : {Act::NONE, Act::RELU, Act::RELU6}) {
      FcCase c;
      c.per_channel = per_channel;
      c.act = act;
      expect_fc_matches_tflite(c, seed++);
      c.in_shape = {1, 2, 3, 4};  // flattened in NHWC order, as TFLite does
      c.bias = act != Act::RELU;
      expect_fc_matches_tflite(c, seed++);
    }
  }
}

TEST(TfliteImportOps, FullyConnectedWithAFilterOfTheWrongShapeIsRefused) {
  TestModel m;
  const int32_t in = m.add_tensor({{1, 6}, fb::TensorType::INT8, 0, "in", {kInScale}, {kInZp}});
  const int32_t w = m.add_tensor(
      {{2, 5}, fb::TensorType::INT8, m.add_buffer(std::vector<int8_t>(10, 1)), "w", {0.01f}, {0}});
  const int32_t out = m.add_tensor({{1, 2}, fb::TensorType::INT8, 0, "out", {kOutScale}, {0}});
  m.ops.push_back(make_op(kFullyConnected, {in, w}, {out},
                          fb::BuiltinOptions::FullyConnectedOptions,
                          testing::fully_connected_options(Act::NONE)));
  m.inputs = {in};
  m.outputs = {out};
  try {
    import_tflite(m.serialize(), "fc.tflite");
    FAIL() << "imported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("operator 0 (FULLY_CONNECTED): filter 'w'"),
              std::string::npos)
        << e.what();
  }
}

// ---- ADD ----

TEST(TfliteImportOps, AddComputesWhatTfliteComputes) {
  struct Q {
    float scale;
    int32_t zp;
  };
  const Q kA{0.05f, -4}, kB{0.021f, 11}, kOut{0.07f, 3};
  uint32_t seed = 40;
  // 5 channels at 3x4 use the kernel's direct path, 8 at 16x16 its tables.
  for (const std::vector<int32_t>& shape :
       {std::vector<int32_t>{1, 3, 4, 5}, std::vector<int32_t>{1, 16, 16, 8}}) {
    for (const Act act : {Act::NONE, Act::RELU, Act::RELU6}) {
      const int32_t ch = shape[3];
      TestModel m;
      const int32_t a = m.add_tensor({shape, fb::TensorType::INT8, 0, "a", {kA.scale}, {kA.zp}});
      // b: a requantized to kB by a 1x1 depthwise convolution of weight 1
      // (scale 1), so the two inputs of the add have different quantization.
      const int32_t w = m.add_tensor({{1, 1, 1, ch},
                                      fb::TensorType::INT8,
                                      m.add_buffer(std::vector<int8_t>(static_cast<size_t>(ch), 1)),
                                      "w",
                                      {1.0f},
                                      {0},
                                      3});
      const int32_t b = m.add_tensor({shape, fb::TensorType::INT8, 0, "b", {kB.scale}, {kB.zp}});
      const int32_t s =
          m.add_tensor({shape, fb::TensorType::INT8, 0, "sum", {kOut.scale}, {kOut.zp}});
      m.ops.push_back(make_op(kDepthwiseConv2D, {a, w}, {b},
                              fb::BuiltinOptions::DepthwiseConv2DOptions,
                              testing::depthwise_options(fb::Padding::VALID, 1, Act::NONE)));
      m.ops.push_back(
          make_op(kAdd, {a, b}, {s}, fb::BuiltinOptions::AddOptions, testing::add_options(act)));
      m.inputs = {a};
      m.outputs = {s};
      const quant::QGraph g = import_tflite(m.serialize(), "add.tflite");
      ASSERT_EQ(g.layers.size(), 2u);
      const std::vector<int8_t> input = random_int8(static_cast<size_t>(volume(shape)), seed++);
      // TFLM's int8 Add Prepare (left shift 20, twice the larger input
      // scale) and AddFunc.
      const int left_shift = 20;
      const double twice_max = 2.0 * static_cast<double>(std::max(kA.scale, kB.scale));
      const double real_a = static_cast<double>(kA.scale) / twice_max;
      const double real_b = static_cast<double>(kB.scale) / twice_max;
      const double real_out =
          twice_max / (static_cast<double>(1 << left_shift) * static_cast<double>(kOut.scale));
      const auto [lo, hi] = act_range(act, kOut.scale, kOut.zp);
      std::vector<int8_t> expected;
      for (const int8_t v : input) {
        const int32_t bv = std::clamp(
            mbqm(v - kA.zp, static_cast<double>(kA.scale) / static_cast<double>(kB.scale)) + kB.zp,
            -128, 127);
        const int32_t sa = mbqm((v - kA.zp) * (1 << left_shift), real_a);
        const int32_t sb = mbqm((bv - kB.zp) * (1 << left_shift), real_b);
        const int32_t raw = mbqm(sa + sb, real_out) + kOut.zp;
        expected.push_back(static_cast<int8_t>(std::clamp(raw, lo, hi)));
      }
      EXPECT_EQ(quant::Int8Executor(g).run(input), expected);
    }
  }
}

TEST(TfliteImportOps, AddWithBroadcastingIsRefused) {
  TestModel m;
  const int32_t a = m.add_tensor({{1, 2, 2, 3}, fb::TensorType::INT8, 0, "a", {0.1f}, {0}});
  const int32_t b = m.add_tensor({{1, 1, 1, 3}, fb::TensorType::INT8, 0, "b", {0.1f}, {0}});
  const int32_t s = m.add_tensor({{1, 2, 2, 3}, fb::TensorType::INT8, 0, "s", {0.1f}, {0}});
  m.ops.push_back(make_op(
      kMean,
      {a,
       m.add_tensor(
           {{2}, fb::TensorType::INT32, m.add_buffer(std::vector<int32_t>{1, 2}), "axes", {}, {}})},
      {b}, fb::BuiltinOptions::ReducerOptions, testing::reducer_options(true)));
  m.ops.push_back(
      make_op(kAdd, {a, b}, {s}, fb::BuiltinOptions::AddOptions, testing::add_options(Act::NONE)));
  m.inputs = {a};
  m.outputs = {s};
  try {
    import_tflite(m.serialize(), "add.tflite");
    FAIL() << "imported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("operator 1 (ADD)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("broadcasting"), std::string::npos) << e.what();
  }
}

// ---- CONCATENATION ----

TEST(TfliteImportOps, ConcatenationJoinsChannelsAsTfliteDoes) {
  for (const int32_t axis : {3, -1}) {
    TestModel m;
    const float scale = 0.03f;
    const int32_t zp = 2;
    const int32_t x = m.add_tensor({{1, 3, 4, 2}, fb::TensorType::INT8, 0, "x", {scale}, {zp}});
    const int32_t p =
        m.add_tensor({{1, 3, 4, 2}, fb::TensorType::INT8, 0, "pooled", {scale}, {zp}});
    const int32_t cat = m.add_tensor({{1, 3, 4, 4}, fb::TensorType::INT8, 0, "cat", {scale}, {zp}});
    m.ops.push_back(make_op(kMaxPool2D, {x}, {p}, fb::BuiltinOptions::Pool2DOptions,
                            testing::pool_options(fb::Padding::SAME, 1, 2)));
    m.ops.push_back(make_op(kConcatenation, {p, x}, {cat}, fb::BuiltinOptions::ConcatenationOptions,
                            testing::concatenation_options(axis)));
    m.inputs = {x};
    m.outputs = {cat};
    const quant::QGraph g = import_tflite(m.serialize(), "cat.tflite");
    const std::vector<int8_t> input = random_int8(24, 70);
    // TFLite's SAME 2x2 max pool (padding after) and the byte copy.
    std::vector<int8_t> expected;
    for (int32_t y = 0; y < 3; ++y) {
      for (int32_t xx = 0; xx < 4; ++xx) {
        for (int32_t c = 0; c < 2; ++c) {
          int8_t best = -128;
          for (int32_t dy = 0; dy < 2; ++dy) {
            for (int32_t dx = 0; dx < 2; ++dx) {
              if (y + dy < 3 && xx + dx < 4) {
                best = std::max(best, input[static_cast<size_t>(((y + dy) * 4 + xx + dx) * 2 + c)]);
              }
            }
          }
          expected.push_back(best);
        }
        for (int32_t c = 0; c < 2; ++c)
          expected.push_back(input[static_cast<size_t>((y * 4 + xx) * 2 + c)]);
      }
    }
    EXPECT_EQ(quant::Int8Executor(g).run(input), expected) << "axis " << axis;
  }
}

TEST(TfliteImportOps, ConcatenationAlongAnotherAxisIsRefused) {
  TestModel m;
  const int32_t x = m.add_tensor({{1, 3, 4, 2}, fb::TensorType::INT8, 0, "x", {0.1f}, {0}});
  const int32_t cat = m.add_tensor({{1, 6, 4, 2}, fb::TensorType::INT8, 0, "cat", {0.1f}, {0}});
  m.ops.push_back(make_op(kConcatenation, {x, x}, {cat}, fb::BuiltinOptions::ConcatenationOptions,
                          testing::concatenation_options(1)));
  m.inputs = {x};
  m.outputs = {cat};
  try {
    import_tflite(m.serialize(), "cat.tflite");
    FAIL() << "imported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("operator 0 (CONCATENATION): joins axis 1"),
              std::string::npos)
        << e.what();
  }
}

// ---- MEAN ----

TestModel mean_model(bool keep_dims, float out_scale, int32_t out_zp) {
  TestModel m;
  const int32_t x = m.add_tensor({{1, 5, 7, 3}, fb::TensorType::INT8, 0, "x", {0.02f}, {-5}});
  const int32_t axes = m.add_tensor(
      {{2}, fb::TensorType::INT32, m.add_buffer(std::vector<int32_t>{2, 1}), "axes", {}, {}});
  const std::vector<int32_t> out_shape =
      keep_dims ? std::vector<int32_t>{1, 1, 1, 3} : std::vector<int32_t>{1, 3};
  const int32_t out =
      m.add_tensor({out_shape, fb::TensorType::INT8, 0, "mean", {out_scale}, {out_zp}});
  m.ops.push_back(make_op(kMean, {x, axes}, {out}, fb::BuiltinOptions::ReducerOptions,
                          testing::reducer_options(keep_dims)));
  m.inputs = {x};
  m.outputs = {out};
  return m;
}

TEST(TfliteImportOps, MeanComputesTflmsIntegerMean) {
  uint32_t seed = 90;
  for (const auto& [out_scale, out_zp] :
       {std::pair<float, int32_t>{0.02f, -5}, std::pair<float, int32_t>{0.011f, 9}}) {
    const quant::QGraph g = import_tflite(mean_model(true, out_scale, out_zp).serialize(), "m");
    const std::vector<int8_t> input = random_int8(105, seed++);
    // reference_integer_ops::Mean: sum of (in - in_zp), rescaled by
    // in_scale / out_scale, divided by H*W rounding half away from zero.
    const int32_t count = 35;
    std::vector<int8_t> expected;
    for (int32_t c = 0; c < 3; ++c) {
      int32_t acc = 0;
      for (int32_t i = 0; i < count; ++i) acc += input[static_cast<size_t>(i * 3 + c)] - (-5);
      acc = mbqm(acc, static_cast<double>(0.02f) / static_cast<double>(out_scale));
      acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      expected.push_back(static_cast<int8_t>(std::clamp(acc + out_zp, -128, 127)));
    }
    EXPECT_EQ(quant::Int8Executor(g).run(input), expected);
  }
}

TEST(TfliteImportOps, MeanWithoutKeepDimsIsRefusedNamingIt) {
  try {
    import_tflite(mean_model(false, 0.02f, -5).serialize(), "m.tflite");
    FAIL() << "imported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("operator 0 (MEAN): has keep_dims false"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mcusplit::tflite
