// A small model with what PyTorch-to-TFLite converters write for
// MobileNetV2 (written with tflite_builder.h): int8 NCHW input and a
// TRANSPOSE, a separate PAD before each strided convolution, depthwise
// convolutions, a residual ADD, MEAN, RESHAPE and a FULLY_CONNECTED with
// per-tensor weights. It imports (PADs folded, TRANSPOSE gone), runs on one
// device, and split runs on several clusters equal that bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "host/device_slice.h"
#include "host/in_process_cluster.h"
#include "plan/devices_shorthand.h"
#include "plan/planner.h"
#include "quant/int8_executor.h"
#include "tflite/tflite_import.h"
#include "tflite_builder.h"

namespace mcusplit::tflite {
namespace {

using testing::make_op;
using testing::TestModel;
using Act = fb::ActivationFunctionType;

class Writer {
 public:
  TestModel m;
  std::mt19937 gen{2024};

  // A fresh tensor name (appended, not built with operator+, which GCC 12's
  // -Wrestrict misreads).
  std::string name(const char* prefix) const {
    std::string s(prefix);
    s.append(std::to_string(m.tensors.size()));
    return s;
  }

  int32_t activation(std::vector<int32_t> shape, float scale, int32_t zp) {
    return m.add_tensor({std::move(shape), fb::TensorType::INT8, 0, name("t"), {scale}, {zp}});
  }
  float scale(int32_t t) const { return m.tensors[static_cast<size_t>(t)].scale[0]; }
  std::vector<int32_t> shape(int32_t t) const { return m.tensors[static_cast<size_t>(t)].shape; }

  // Per-channel weights and biases; the output scale keeps values in range.
  int32_t conv(int32_t x, int32_t cout, int32_t k, int32_t stride, fb::Padding padding, Act act,
               bool depthwise) {
    const std::vector<int32_t> s = shape(x);
    const int32_t cin = s[3];
    const int32_t oh =
        padding == fb::Padding::SAME ? (s[1] + stride - 1) / stride : (s[1] - k) / stride + 1;
    const int32_t ow =
        padding == fb::Padding::SAME ? (s[2] + stride - 1) / stride : (s[2] - k) / stride + 1;
    const int32_t taps = k * k * (depthwise ? 1 : cin);
    std::vector<int8_t> w(static_cast<size_t>(taps * cout));
    for (auto& v : w) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-127, 127)(gen));
    std::vector<float> ws;
    std::vector<int32_t> bias;
    for (int32_t o = 0; o < cout; ++o) {
      ws.push_back(0.002f + 0.0005f * static_cast<float>(o % 5));
      bias.push_back(std::uniform_int_distribution<int>(-3000, 3000)(gen));
    }
    const int32_t wt = m.add_tensor(
        {depthwise ? std::vector<int32_t>{1, k, k, cout} : std::vector<int32_t>{cout, k, k, cin},
         fb::TensorType::INT8, m.add_buffer(w), name("w"), ws, std::vector<int64_t>(ws.size(), 0),
         depthwise ? 3 : 0});
    const int32_t bt =
        m.add_tensor({{cout}, fb::TensorType::INT32, m.add_buffer(bias), name("b"), {}, {}});
    const float out_scale = scale(x) * 0.003f * 40.0f * std::sqrt(static_cast<float>(taps));
    const int32_t y = activation({1, oh, ow, cout}, out_scale, act == Act::NONE ? 3 : -128);
    m.ops.push_back(make_op(
        depthwise ? kDepthwiseConv2D : kConv2D, {x, wt, bt}, {y},
        depthwise ? fb::BuiltinOptions::DepthwiseConv2DOptions : fb::BuiltinOptions::Conv2DOptions,
        depthwise ? testing::depthwise_options(padding, stride, act)
                  : testing::conv_options(padding, stride, act)));
    return y;
  }

  // The converters' explicit PAD (one row and column after, as TensorFlow's
  // SAME would for an even input and stride 2); with a value, a PADV2 of it.
  int32_t pad(int32_t x, std::optional<int8_t> value = std::nullopt) {
    const std::vector<int32_t> s = shape(x);
    const int32_t p = m.add_tensor({{4, 2},
                                    fb::TensorType::INT32,
                                    m.add_buffer(std::vector<int32_t>{0, 0, 0, 1, 0, 1, 0, 0}),
                                    name("pad"),
                                    {},
                                    {}});
    const auto& q = m.tensors[static_cast<size_t>(x)];
    const int32_t y = activation({1, s[1] + 1, s[2] + 1, s[3]}, q.scale[0],
                                 static_cast<int32_t>(q.zero_point[0]));
    if (!value) {
      m.ops.push_back(make_op(kPad, {x, p}, {y}));
      return y;
    }
    const int32_t v = m.add_tensor({{1},
                                    fb::TensorType::INT8,
                                    m.add_buffer(std::vector<int8_t>{*value}),
                                    name("value"),
                                    q.scale,
                                    q.zero_point});
    m.ops.push_back(make_op(kPadV2, {x, p, v}, {y}));
    return y;
  }
};

// pad_value: the stem's PAD becomes a PADV2 of that value, which does not
// fold and runs as a Pad layer.
TestModel mobilenet_like(std::optional<int8_t> pad_value = std::nullopt) {
  Writer w;
  TestModel& m = w.m;
  const int32_t nchw = w.activation({1, 3, 32, 32}, 0.02f, -1);
  const int32_t x = w.activation({1, 32, 32, 3}, 0.02f, -1);
  const int32_t perm = m.add_tensor(
      {{4}, fb::TensorType::INT32, m.add_buffer(std::vector<int32_t>{0, 2, 3, 1}), "perm", {}, {}});
  m.ops.push_back(make_op(kTranspose, {nchw, perm}, {x}));
  // Stem: PAD + 3x3 stride-2 conv.
  const int32_t stem =
      w.conv(w.pad(x, pad_value), 8, 3, 2, fb::Padding::VALID, Act::RELU6, false);  // 16x16x8
  // Inverted residual block with its ADD.
  const int32_t e1 = w.conv(stem, 16, 1, 1, fb::Padding::SAME, Act::RELU6, false);
  const int32_t d1 = w.conv(e1, 16, 3, 1, fb::Padding::SAME, Act::RELU6, true);
  const int32_t p1 = w.conv(d1, 8, 1, 1, fb::Padding::SAME, Act::NONE, false);
  const int32_t sum = w.activation({1, 16, 16, 8}, 0.08f, 2);
  m.ops.push_back(make_op(kAdd, {p1, stem}, {sum}, fb::BuiltinOptions::AddOptions,
                          testing::add_options(Act::NONE)));
  // Strided block: expand, PAD + stride-2 depthwise, project.
  const int32_t e2 = w.conv(sum, 24, 1, 1, fb::Padding::SAME, Act::RELU6, false);
  const int32_t d2 = w.conv(w.pad(e2), 24, 3, 2, fb::Padding::VALID, Act::RELU6, true);  // 8x8
  const int32_t p2 = w.conv(d2, 12, 1, 1, fb::Padding::SAME, Act::NONE, false);
  const int32_t head = w.conv(p2, 32, 1, 1, fb::Padding::SAME, Act::RELU6, false);
  // MEAN over H and W, RESHAPE to [1, 32], FULLY_CONNECTED (per-tensor weights).
  const int32_t axes = m.add_tensor(
      {{2}, fb::TensorType::INT32, m.add_buffer(std::vector<int32_t>{1, 2}), "axes", {}, {}});
  const int32_t mean = w.activation({1, 1, 1, 32}, w.scale(head), -128);
  m.ops.push_back(make_op(kMean, {head, axes}, {mean}, fb::BuiltinOptions::ReducerOptions,
                          testing::reducer_options(true)));
  const int32_t flat = w.activation({1, 32}, w.scale(head), -128);
  m.ops.push_back(make_op(kReshape, {mean}, {flat}));
  std::vector<int8_t> fc(10 * 32);
  for (auto& v : fc) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-127, 127)(w.gen));
  const int32_t fw =
      m.add_tensor({{10, 32}, fb::TensorType::INT8, m.add_buffer(fc), "fc_w", {0.003f}, {0}});
  const int32_t fb_ = m.add_tensor(
      {{10},
       fb::TensorType::INT32,
       m.add_buffer(std::vector<int32_t>{5, -5, 10, -10, 0, 300, -300, 1000, -1000, 42}),
       "fc_b",
       {},
       {}});
  const int32_t logits = w.activation({1, 10}, w.scale(head) * 0.003f * 200.0f, 0);
  m.ops.push_back(make_op(kFullyConnected, {flat, fw, fb_}, {logits},
                          fb::BuiltinOptions::FullyConnectedOptions,
                          testing::fully_connected_options(Act::NONE)));
  m.inputs = {nchw};
  m.outputs = {logits};
  return m;
}

std::vector<int8_t> random_input(uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int8_t> v(32 * 32 * 3);
  for (auto& x : v) x = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
  return v;
}

TEST(MobileNetPatterns, ImportsWithThePadsFoldedAndTheTransposeGone) {
  const quant::QGraph g = import_tflite(mobilenet_like().serialize(), "mbv2_like.tflite");
  std::map<std::string, int> ops;
  for (const quant::QLayer& l : g.layers) ++ops[quant::op_type_name(l.op)];
  EXPECT_EQ(ops["Conv"], 8);
  EXPECT_EQ(ops["Add"], 1);
  EXPECT_EQ(ops["GlobalAveragePool"], 1);
  EXPECT_EQ(ops["Reshape"], 1);
  EXPECT_EQ(ops["FullyConnected"], 1);
  EXPECT_EQ(ops.count("Pad"), 0u);
  EXPECT_EQ(g.layers.size(), 12u);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.input)].shape, (core::TensorShape3{3, 32, 32}));
  EXPECT_EQ(g.layers.back().fc.per_tensor_requant, true);
}

void expect_split_runs_equal_the_single_device(const quant::QGraph& g) {
  quant::Int8Executor exec(g);
  const std::vector<std::vector<int8_t>> inputs = {random_input(1), random_input(2)};
  const std::vector<int8_t> first = exec.run(inputs[0]);
  // The logits vary: the test model is not saturated into one constant.
  EXPECT_NE(*std::min_element(first.begin(), first.end()),
            *std::max_element(first.begin(), first.end()));
  EXPECT_NE(first, exec.run(inputs[1]));
  int runs = 0;
  for (const char* devices : {"2xteensy41", "4xteensy41", "2xteensy41,2xrp2040", "4xnrf52840"}) {
    for (const plan::Scheme scheme : {plan::Scheme::Auto, plan::Scheme::Paper}) {
      plan::PlanOptions o;
      o.scheme = scheme;
      const plan::Plan p = plan::make_plan(g, plan::parse_devices_shorthand(devices), o);
      const plan::PlanFile file = host::provision_plan(p, g);
      for (const auto& input : inputs) {
        EXPECT_EQ(host::InProcessCluster(file).run(input).output, exec.run(input))
            << devices << " " << plan::scheme_name(scheme);
        ++runs;
      }
    }
  }
  EXPECT_EQ(runs, 16);
}

TEST(MobileNetPatterns, SplitRunsEqualTheSingleDeviceBitForBit) {
  expect_split_runs_equal_the_single_device(
      import_tflite(mobilenet_like().serialize(), "mbv2_like.tflite"));
}

TEST(MobileNetPatterns, APadThatCannotFoldRunsAsAPadLayerSplitToo) {
  const quant::QGraph g = import_tflite(mobilenet_like(40).serialize(), "mbv2_pad.tflite");
  ASSERT_EQ(g.layers.size(), 13u);
  EXPECT_EQ(g.layers[0].op, quant::OpType::Pad);
  EXPECT_EQ(g.layers[0].pad.value, 40);
  expect_split_runs_equal_the_single_device(g);
}

}  // namespace
}  // namespace mcusplit::tflite
