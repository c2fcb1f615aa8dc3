// PAD / PADV2 (folded into the convolution after them, or a Pad layer),
// TRANSPOSE of the graph input and QUANTIZE / DEQUANTIZE at the graph's
// edges, against TFLite's arithmetic written out here: the explicit padded
// tensor, then TFLite's VALID int8 convolution or max pool over it.
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
using Act = fb::ActivationFunctionType;

constexpr int32_t kH = 7, kW = 6, kC = 3, kCout = 4, kK = 3;
constexpr float kInScale = 0.05f, kWScale = 0.004f, kOutScale = 0.1f;
constexpr int32_t kInZp = -6, kOutZp = 4;

std::vector<int8_t> random_int8(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
  return v;
}

const std::vector<int8_t>& filter() {
  static const std::vector<int8_t> f = [] {
    std::vector<int8_t> v = random_int8(kCout * kK * kK * kC, 5);
    for (auto& x : v) x = static_cast<int8_t>(std::max<int>(x, -127));
    return v;
  }();
  return f;
}
const std::vector<int32_t> kBias{100, -250, 7, 1999};

// TFLite's PAD: the input at (top, left) inside an [h, w, c] tensor of value.
std::vector<int8_t> padded(const std::vector<int8_t>& in, int32_t top, int32_t bottom, int32_t left,
                           int32_t right, int32_t value) {
  const int32_t h = kH + top + bottom, w = kW + left + right;
  std::vector<int8_t> out(static_cast<size_t>(h * w * kC), static_cast<int8_t>(value));
  for (int32_t y = 0; y < kH; ++y)
    for (int32_t x = 0; x < kW; ++x)
      for (int32_t c = 0; c < kC; ++c)
        out[static_cast<size_t>(((y + top) * w + x + left) * kC + c)] =
            in[static_cast<size_t>((y * kW + x) * kC + c)];
  return out;
}

// TFLite's int8 CONV_2D, VALID, per-tensor weights, over an [h, w, kC] input.
std::vector<int8_t> valid_conv(const std::vector<int8_t>& in, int32_t h, int32_t w,
                               int32_t stride) {
  const int32_t oh = (h - kK) / stride + 1, ow = (w - kK) / stride + 1;
  const core::QuantizedMultiplier m =
      core::quantize_multiplier(static_cast<double>(kInScale) * static_cast<double>(kWScale) /
                                static_cast<double>(kOutScale));
  std::vector<int8_t> out;
  for (int32_t oy = 0; oy < oh; ++oy)
    for (int32_t ox = 0; ox < ow; ++ox)
      for (int32_t o = 0; o < kCout; ++o) {
        int32_t acc = kBias[static_cast<size_t>(o)];
        for (int32_t ky = 0; ky < kK; ++ky)
          for (int32_t kx = 0; kx < kK; ++kx)
            for (int32_t c = 0; c < kC; ++c)
              acc +=
                  (in[static_cast<size_t>(((oy * stride + ky) * w + ox * stride + kx) * kC + c)] -
                   kInZp) *
                  filter()[static_cast<size_t>(((o * kK + ky) * kK + kx) * kC + c)];
        acc = core::multiply_by_quantized_multiplier(acc, m.multiplier, m.shift) + kOutZp;
        out.push_back(static_cast<int8_t>(std::clamp(acc, -128, 127)));
      }
  return out;
}

struct Built {
  TestModel m;
  int32_t x = -1;  // the int8 NHWC tensor the first operator reads
  int32_t y = -1;  // the conv's output
};

// x -> [PAD or PADV2 (top, bottom, left, right; PADV2 pads with value)] ->
// CONV_2D VALID stride 2.
Built pad_conv_model(int32_t pad_code, std::array<int32_t, 4> p, int32_t value) {
  Built b;
  TestModel& m = b.m;
  b.x = m.add_tensor({{1, kH, kW, kC}, fb::TensorType::INT8, 0, "x", {kInScale}, {kInZp}});
  const int32_t ph = kH + p[0] + p[1], pw = kW + p[2] + p[3];
  const int32_t paddings =
      m.add_tensor({{4, 2},
                    fb::TensorType::INT32,
                    m.add_buffer(std::vector<int32_t>{0, 0, p[0], p[1], p[2], p[3], 0, 0}),
                    "paddings",
                    {},
                    {}});
  const int32_t xp =
      m.add_tensor({{1, ph, pw, kC}, fb::TensorType::INT8, 0, "xp", {kInScale}, {kInZp}});
  std::vector<int32_t> pad_inputs{b.x, paddings};
  if (pad_code == kPadV2) {
    pad_inputs.push_back(
        m.add_tensor({{1},
                      fb::TensorType::INT8,
                      m.add_buffer(std::vector<int8_t>{static_cast<int8_t>(value)}),
                      "value",
                      {kInScale},
                      {kInZp}}));
  }
  m.ops.push_back(make_op(pad_code, pad_inputs, {xp}));
  const int32_t w = m.add_tensor(
      {{kCout, kK, kK, kC}, fb::TensorType::INT8, m.add_buffer(filter()), "w", {kWScale}, {0}});
  const int32_t bias =
      m.add_tensor({{kCout}, fb::TensorType::INT32, m.add_buffer(kBias), "bias", {}, {}});
  b.y = m.add_tensor({{1, (ph - kK) / 2 + 1, (pw - kK) / 2 + 1, kCout},
                      fb::TensorType::INT8,
                      0,
                      "y",
                      {kOutScale},
                      {kOutZp}});
  m.ops.push_back(make_op(kConv2D, {xp, w, bias}, {b.y}, fb::BuiltinOptions::Conv2DOptions,
                          testing::conv_options(fb::Padding::VALID, 2, Act::NONE)));
  m.inputs = {b.x};
  m.outputs = {b.y};
  return b;
}

TEST(TfliteImportEdges, PadWithTheZeroPointFoldsIntoTheConvolution) {
  uint32_t seed = 1;
  for (const int32_t code : {kPad, kPadV2}) {
    for (const std::array<int32_t, 4> p :
         {std::array<int32_t, 4>{1, 1, 1, 1}, std::array<int32_t, 4>{0, 1, 0, 1},
          std::array<int32_t, 4>{2, 0, 1, 3}}) {
      const Built b = pad_conv_model(code, p, kInZp);
      const quant::QGraph g = import_tflite(b.m.serialize(), "pad.tflite");
      ASSERT_EQ(g.layers.size(), 1u);  // the PAD is gone
      EXPECT_EQ(g.layers[0].op, quant::OpType::Conv);
      EXPECT_EQ(g.layers[0].conv.pad_top, p[0]);
      EXPECT_EQ(g.layers[0].conv.pad_left, p[2]);
      const std::vector<int8_t> input = random_int8(kH * kW * kC, seed++);
      EXPECT_EQ(quant::Int8Executor(g).run(input),
                valid_conv(padded(input, p[0], p[1], p[2], p[3], kInZp), kH + p[0] + p[1],
                           kW + p[2] + p[3], 2));
    }
  }
}

TEST(TfliteImportEdges, PadWithAnotherValueRunsAsAPadLayer) {
  const std::array<int32_t, 4> p{1, 2, 2, 1};
  const Built b = pad_conv_model(kPadV2, p, 33);
  const quant::QGraph g = import_tflite(b.m.serialize(), "pad.tflite");
  ASSERT_EQ(g.layers.size(), 2u);
  EXPECT_EQ(g.layers[0].op, quant::OpType::Pad);
  const std::vector<int8_t> input = random_int8(kH * kW * kC, 9);
  EXPECT_EQ(quant::Int8Executor(g).run(input), valid_conv(padded(input, p[0], p[1], p[2], p[3], 33),
                                                          kH + p[0] + p[1], kW + p[2] + p[3], 2));
}

TEST(TfliteImportEdges, PadBeforeAPoolRunsAsAPadLayer) {
  // 8x7 padded, 2x2 VALID stride 2: 4x3.
  constexpr int32_t kOh = 4, kOw = 3;
  // TFLite's pools skip their own padding, so a PAD's rows are values to
  // them: the PAD must run.
  TestModel m;
  const int32_t x =
      m.add_tensor({{1, kH, kW, kC}, fb::TensorType::INT8, 0, "x", {kInScale}, {kInZp}});
  const int32_t paddings = m.add_tensor({{4, 2},
                                         fb::TensorType::INT32,
                                         m.add_buffer(std::vector<int32_t>{0, 0, 1, 0, 0, 1, 0, 0}),
                                         "paddings",
                                         {},
                                         {}});
  const int32_t xp =
      m.add_tensor({{1, kH + 1, kW + 1, kC}, fb::TensorType::INT8, 0, "xp", {kInScale}, {kInZp}});
  const int32_t y =
      m.add_tensor({{1, kOh, kOw, kC}, fb::TensorType::INT8, 0, "y", {kInScale}, {kInZp}});
  m.ops.push_back(make_op(kPad, {x, paddings}, {xp}));
  m.ops.push_back(make_op(kMaxPool2D, {xp}, {y}, fb::BuiltinOptions::Pool2DOptions,
                          testing::pool_options(fb::Padding::VALID, 2, 2)));
  m.inputs = {x};
  m.outputs = {y};
  const quant::QGraph g = import_tflite(m.serialize(), "pad.tflite");
  ASSERT_EQ(g.layers.size(), 2u);
  EXPECT_EQ(g.layers[0].op, quant::OpType::Pad);
  const std::vector<int8_t> input = random_int8(kH * kW * kC, 11);
  const std::vector<int8_t> xpv = padded(input, 1, 0, 0, 1, kInZp);
  std::vector<int8_t> expected;
  for (int32_t oy = 0; oy < kOh; ++oy)
    for (int32_t ox = 0; ox < kOw; ++ox)
      for (int32_t c = 0; c < kC; ++c) {
        int8_t best = -128;
        for (int32_t dy = 0; dy < 2; ++dy)
          for (int32_t dx = 0; dx < 2; ++dx)
            best = std::max(
                best, xpv[static_cast<size_t>(((oy * 2 + dy) * (kW + 1) + ox * 2 + dx) * kC + c)]);
        expected.push_back(best);
      }
  EXPECT_EQ(quant::Int8Executor(g).run(input), expected);
}

// [float input -> QUANTIZE] -> [NCHW TRANSPOSE] -> CONV_2D -> [DEQUANTIZE].
TestModel edge_model(bool float_edges, bool transpose) {
  Built b = pad_conv_model(kPad, {1, 1, 1, 1}, kInZp);
  TestModel& m = b.m;
  std::vector<testing::TestOp> front;
  int32_t first = b.x;
  if (transpose) {
    const int32_t nchw =
        m.add_tensor({{1, kC, kH, kW}, fb::TensorType::INT8, 0, "nchw", {kInScale}, {kInZp}});
    const int32_t perm = m.add_tensor({{4},
                                       fb::TensorType::INT32,
                                       m.add_buffer(std::vector<int32_t>{0, 2, 3, 1}),
                                       "perm",
                                       {},
                                       {}});
    front.push_back(make_op(kTranspose, {nchw, perm}, {first}));
    first = nchw;
  }
  if (float_edges) {
    const auto& shape = m.tensors[static_cast<size_t>(first)].shape;
    const int32_t f = m.add_tensor({shape, fb::TensorType::FLOAT32, 0, "float_in", {}, {}});
    front.insert(front.begin(), make_op(kQuantize, {f}, {first}));
    first = f;
    const int32_t out = m.add_tensor({m.tensors[static_cast<size_t>(b.y)].shape,
                                      fb::TensorType::FLOAT32,
                                      0,
                                      "float_out",
                                      {},
                                      {}});
    m.ops.push_back(make_op(kDequantize, {b.y}, {out}));
    m.outputs = {out};
  }
  m.ops.insert(m.ops.begin(), front.begin(), front.end());
  m.inputs = {first};
  return m;
}

TEST(TfliteImportEdges, QuantizeTransposeAndDequantizeBecomeTheGraphsEdges) {
  for (const bool float_edges : {false, true}) {
    for (const bool transpose : {false, true}) {
      const quant::QGraph g = import_tflite(edge_model(float_edges, transpose).serialize(), "e");
      ASSERT_EQ(g.layers.size(), 1u) << float_edges << transpose;
      const quant::QTensor& in = g.tensors[static_cast<size_t>(g.input)];
      const quant::QTensor& out = g.tensors[static_cast<size_t>(g.output)];
      EXPECT_EQ(in.shape, (core::TensorShape3{kC, kH, kW}));  // NHWC either way
      EXPECT_EQ(in.quant.scale, kInScale);
      EXPECT_EQ(in.quant.zero_point, kInZp);
      EXPECT_EQ(out.quant.scale, kOutScale);
      EXPECT_EQ(out.quant.zero_point, kOutZp);
      const std::vector<int8_t> input = random_int8(kH * kW * kC, 21);
      EXPECT_EQ(quant::Int8Executor(g).run(input),
                valid_conv(padded(input, 1, 1, 1, 1, kInZp), kH + 2, kW + 2, 2));
    }
  }
}

TEST(TfliteImportEdges, ATransposeInsideTheGraphIsRefusedNamingIt) {
  TestModel m = edge_model(false, false);
  // Transpose the conv's output (NHWC -> NCHW order) as a last operator.
  const int32_t perm = m.add_tensor(
      {{4}, fb::TensorType::INT32, m.add_buffer(std::vector<int32_t>{0, 3, 1, 2}), "perm", {}, {}});
  const int32_t t =
      m.add_tensor({{1, kCout, 4, 3}, fb::TensorType::INT8, 0, "t", {kOutScale}, {kOutZp}});
  m.ops.push_back(make_op(kTranspose, {m.outputs[0], perm}, {t}));
  m.outputs = {t};
  try {
    import_tflite(m.serialize(), "t.tflite");
    FAIL() << "imported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("operator 2 (TRANSPOSE): is supported only at the graph's "
                                         "edges"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mcusplit::tflite
