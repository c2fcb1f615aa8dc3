// Small TFLite models written by the test (tflite_builder.h) imported and run
// on the int8 executor, against TFLite's int8 conv and depthwise arithmetic
// written out here from the spec: NHWC input, filter OHWI (depthwise
// [1][kh][kw][Cout]), per-channel multipliers from the scales, padding
// positions skipped.
#include <gtest/gtest.h>

#include <climits>

#include <cstring>
#include <random>

#include "core/fixed_point.h"
#include "quant/int8_executor.h"
#include "tflite/import_ops.h"
#include "tflite/tflite_import.h"
#include "tflite_builder.h"

namespace mcusplit::tflite {
namespace {

using testing::TestModel;
using testing::TestOp;
using testing::TestTensor;

struct ConvCase {
  bool depthwise = false;
  int32_t h = 5, w = 6, cin = 3, cout = 4, k = 3, stride = 1;
  fb::Padding padding = fb::Padding::SAME;
  fb::ActivationFunctionType act = fb::ActivationFunctionType::NONE;
  bool per_channel = true;
};

struct BuiltConv {
  TestModel model;
  std::vector<int8_t> filter;
  std::vector<int32_t> bias;
  std::vector<float> filter_scales;
  int32_t oh = 0, ow = 0;
};

constexpr float kInScale = 0.05f, kOutScale = 0.2f;
constexpr int32_t kInZp = -3, kOutZp = 5;

BuiltConv conv_model(const ConvCase& c, uint32_t seed) {
  std::mt19937 gen(seed);
  BuiltConv b;
  const int32_t taps = c.k * c.k * (c.depthwise ? 1 : c.cin);
  b.filter.resize(static_cast<size_t>(taps * c.cout));
  for (auto& v : b.filter)
    v = static_cast<int8_t>(std::uniform_int_distribution<int>(-127, 127)(gen));
  for (int32_t o = 0; o < c.cout; ++o) {
    b.bias.push_back(std::uniform_int_distribution<int>(-2000, 2000)(gen));
    b.filter_scales.push_back(0.002f * static_cast<float>(1 + o));
  }
  if (!c.per_channel) b.filter_scales.assign(1, 0.003f);
  const AxisWindow ys = tflite_axis_window(c.padding, c.h, c.k, c.stride, 1);
  const AxisWindow xs = tflite_axis_window(c.padding, c.w, c.k, c.stride, 1);
  b.oh = ys.out;
  b.ow = xs.out;
  TestModel& m = b.model;
  const int32_t in =
      m.add_tensor({{1, c.h, c.w, c.cin}, fb::TensorType::INT8, 0, "input", {kInScale}, {kInZp}});
  const std::vector<int32_t> fshape = c.depthwise ? std::vector<int32_t>{1, c.k, c.k, c.cout}
                                                  : std::vector<int32_t>{c.cout, c.k, c.k, c.cin};
  const int32_t filter =
      m.add_tensor({fshape, fb::TensorType::INT8, m.add_buffer(b.filter), "filter", b.filter_scales,
                    std::vector<int64_t>(b.filter_scales.size(), 0), c.depthwise ? 3 : 0});
  const int32_t bias =
      m.add_tensor({{c.cout}, fb::TensorType::INT32, m.add_buffer(b.bias), "bias", {}, {}});
  const int32_t out = m.add_tensor(
      {{1, b.oh, b.ow, c.cout}, fb::TensorType::INT8, 0, "output", {kOutScale}, {kOutZp}});
  TestOp op;
  op.code = c.depthwise ? kDepthwiseConv2D : kConv2D;
  op.inputs = {in, filter, bias};
  op.outputs = {out};
  op.options_type =
      c.depthwise ? fb::BuiltinOptions::DepthwiseConv2DOptions : fb::BuiltinOptions::Conv2DOptions;
  op.options = c.depthwise ? testing::depthwise_options(c.padding, c.stride, c.act)
                           : testing::conv_options(c.padding, c.stride, c.act);
  m.ops.push_back(op);
  m.inputs = {in};
  m.outputs = {out};
  return b;
}

// TFLite's int8 (depthwise) convolution on NHWC tensors.
std::vector<int8_t> reference(const ConvCase& c, const BuiltConv& b,
                              const std::vector<int8_t>& input) {
  const int32_t pad_top = tflite_axis_window(c.padding, c.h, c.k, c.stride, 1).pad_before;
  const int32_t pad_left = tflite_axis_window(c.padding, c.w, c.k, c.stride, 1).pad_before;
  const auto q = [](float f) { return kOutZp + static_cast<int32_t>(std::round(f / kOutScale)); };
  int32_t lo = -128, hi = 127;
  if (c.act == fb::ActivationFunctionType::RELU || c.act == fb::ActivationFunctionType::RELU6)
    lo = std::max(lo, q(0.0f));
  if (c.act == fb::ActivationFunctionType::RELU6) hi = std::min(hi, q(6.0f));
  std::vector<int8_t> out;
  for (int32_t oy = 0; oy < b.oh; ++oy) {
    for (int32_t ox = 0; ox < b.ow; ++ox) {
      for (int32_t oc = 0; oc < c.cout; ++oc) {
        int32_t acc = 0;
        for (int32_t ky = 0; ky < c.k; ++ky) {
          for (int32_t kx = 0; kx < c.k; ++kx) {
            const int32_t iy = oy * c.stride - pad_top + ky, ix = ox * c.stride - pad_left + kx;
            if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
            const auto in_at = [&](int32_t ic) {
              return int32_t{input[static_cast<size_t>((iy * c.w + ix) * c.cin + ic)]} - kInZp;
            };
            if (c.depthwise) {
              const int32_t ic = oc / (c.cout / c.cin);
              acc += in_at(ic) * b.filter[static_cast<size_t>((ky * c.k + kx) * c.cout + oc)];
            } else {
              for (int32_t ic = 0; ic < c.cin; ++ic) {
                acc += in_at(ic) *
                       b.filter[static_cast<size_t>(((oc * c.k + ky) * c.k + kx) * c.cin + ic)];
              }
            }
          }
        }
        acc += b.bias[static_cast<size_t>(oc)];
        const float ws = b.filter_scales[c.per_channel ? static_cast<size_t>(oc) : 0];
        const core::QuantizedMultiplier m =
            core::quantize_multiplier(static_cast<double>(kInScale) * static_cast<double>(ws) /
                                      static_cast<double>(kOutScale));
        acc = core::multiply_by_quantized_multiplier(acc, m.multiplier, m.shift) + kOutZp;
        out.push_back(static_cast<int8_t>(std::clamp(acc, lo, hi)));
      }
    }
  }
  return out;
}

void expect_matches_reference(const ConvCase& c, uint32_t seed) {
  const BuiltConv b = conv_model(c, seed);
  const quant::QGraph g = import_tflite(b.model.serialize(), "test.tflite");
  ASSERT_EQ(g.layers.size(), 1u);
  std::mt19937 gen(seed + 1);
  std::vector<int8_t> input(static_cast<size_t>(c.h * c.w * c.cin));
  for (auto& v : input) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
  EXPECT_EQ(quant::Int8Executor(g).run(input), reference(c, b, input)) << "seed " << seed;
}

TEST(TfliteImport, ConvolutionsComputeWhatTfliteComputes) {
  uint32_t seed = 1;
  for (const bool depthwise : {false, true}) {
    for (const fb::Padding padding : {fb::Padding::SAME, fb::Padding::VALID}) {
      for (const int32_t stride : {1, 2}) {
        for (const auto act : {fb::ActivationFunctionType::NONE, fb::ActivationFunctionType::RELU,
                               fb::ActivationFunctionType::RELU6}) {
          ConvCase c;
          c.depthwise = depthwise;
          c.cout = depthwise ? 6 : 4;  // depthwise: multiplier 2
          c.padding = padding;
          c.stride = stride;
          c.act = act;
          c.per_channel = seed % 3 != 0;
          expect_matches_reference(c, seed++);
        }
      }
    }
  }
}

TEST(TfliteImport, KeepsTheFilesQuantizationExactly) {
  ConvCase c;
  const BuiltConv b = conv_model(c, 5);
  const quant::QGraph g = import_tflite(b.model.serialize(), "dir/test.tflite");
  EXPECT_EQ(g.source_model, "test.tflite");
  const quant::QTensor& in = g.tensors[static_cast<size_t>(g.input)];
  EXPECT_EQ(in.quant.scale, kInScale);
  EXPECT_EQ(in.quant.zero_point, kInZp);
  EXPECT_EQ(in.shape, (core::TensorShape3{3, 5, 6}));
  const quant::QLayer& l = g.layers[0];
  EXPECT_EQ(l.weights, b.filter);  // OHWI as the file has it
  EXPECT_EQ(l.bias, b.bias);
  for (int32_t oc = 0; oc < c.cout; ++oc) {
    const auto m =
        core::quantize_multiplier(static_cast<double>(kInScale) *
                                  static_cast<double>(b.filter_scales[static_cast<size_t>(oc)]) /
                                  static_cast<double>(kOutScale));
    EXPECT_EQ(l.multiplier[static_cast<size_t>(oc)], m.multiplier);
    EXPECT_EQ(l.shift[static_cast<size_t>(oc)], m.shift);
  }
}

TEST(TfliteImport, TfliteWindowGeometry) {
  // SAME: ceil(in / stride) outputs, the odd padding after.
  EXPECT_EQ(tflite_axis_window(fb::Padding::SAME, 96, 3, 2, 1).out, 48);
  EXPECT_EQ(tflite_axis_window(fb::Padding::SAME, 96, 3, 2, 1).pad_before, 0);
  EXPECT_EQ(tflite_axis_window(fb::Padding::SAME, 5, 3, 1, 1).pad_before, 1);
  EXPECT_EQ(tflite_axis_window(fb::Padding::SAME, 6, 4, 1, 1).pad_before, 1);
  EXPECT_EQ(tflite_axis_window(fb::Padding::VALID, 3, 3, 1, 1).out, 1);
  EXPECT_EQ(tflite_axis_window(fb::Padding::VALID, 7, 3, 2, 2).out, 2);
  // Any int32 a file holds, without overflow (the fuzzer's stride of
  // 2^31 - 1): what falls outside int32 is clamped and matches no shape.
  EXPECT_EQ(tflite_axis_window(fb::Padding::SAME, 4, 3, INT32_MAX, 1).out, 1);
  EXPECT_EQ(tflite_axis_window(fb::Padding::SAME, 4, 3, INT32_MAX, 1).pad_before, 0);
  EXPECT_EQ(tflite_axis_window(fb::Padding::VALID, 4, 3, 1, INT32_MAX).out, INT32_MIN);
  EXPECT_EQ(tflite_axis_window(fb::Padding::SAME, 4, INT32_MAX, 1, INT32_MAX).pad_before,
            INT32_MAX);
}

}  // namespace
}  // namespace mcusplit::tflite
