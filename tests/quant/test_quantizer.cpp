// Quantizer: TFLite parameter formulas, weights within half a step, a conv
// layer through the int8 kernel against float, whole graphs through the int8
// executor against the float engine, and what int8 cannot express.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "kernels/int8_conv_dispatch.h"
#include "model/error_matchers.h"
#include "model/float_executor.h"
#include "quant/int8_executor.h"
#include "quant/quant_test_models.h"
#include "quant/quantize_helpers.h"
#include "quant/weight_quantization.h"

namespace mcusplit::quant {
namespace {

using onnx_test::expect_error;
using onnx_test::OnnxBuilder;
using onnx_test::ramp;
using quant_test::prepared;
using quant_test::quantize_with_random;

std::vector<float> random_values(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

const QLayer& layer_named(const QGraph& q, const std::string& name) {
  for (const QLayer& l : q.layers) {
    if (l.name == name) return l;
  }
  throw std::runtime_error("no layer " + name);
}

TEST(Quantizer, ActivationParametersFollowTflite) {
  const core::QuantParams a = activation_quant_params({-1.0f, 3.0f}, "t");
  EXPECT_FLOAT_EQ(a.scale, 4.0f / 255.0f);
  EXPECT_EQ(a.zero_point, -64);  // round(-128 + 1 / (4/255)) = round(-64.25)
  // The range always includes 0.
  const core::QuantParams b = activation_quant_params({1.0f, 2.0f}, "t");
  EXPECT_FLOAT_EQ(b.scale, 2.0f / 255.0f);
  EXPECT_EQ(b.zero_point, -128);
  const core::QuantParams c = activation_quant_params({-6.0f, -1.0f}, "t");
  EXPECT_EQ(c.zero_point, 127);
  expect_error([] { activation_quant_params({}, "lost"); }, {"'lost'"});
}

TEST(Quantizer, PerChannelWeightsWithinHalfAStep) {
  std::vector<float> rows = random_values(4 * 50, 1);
  for (size_t i = 50; i < 100; ++i) rows[i] *= 0.01f;  // a quiet channel gets its own scale
  for (size_t i = 150; i < 200; ++i) rows[i] = 0.0f;   // an all-zero one
  const PerChannelWeights w = quantize_per_channel(rows, 4);
  ASSERT_EQ(w.scales.size(), 4u);
  for (size_t c = 0; c < 4; ++c) {
    int max_q = 0;
    for (size_t i = c * 50; i < (c + 1) * 50; ++i) {
      EXPECT_LE(std::fabs(w.values[i] * w.scales[c] - rows[i]), 0.5f * w.scales[c] * 1.0001f);
      max_q = std::max(max_q, std::abs(static_cast<int>(w.values[i])));
    }
    EXPECT_EQ(max_q, c == 3 ? 0 : 127) << c;
  }
  const Requantization r =
      requantization({0.5f, -0.25f, 0.0f, 1.0f}, w.scales, {0.02f, 0}, {0.1f, 3});
  ASSERT_EQ(r.bias.size(), 4u);
  EXPECT_EQ(r.bias[0], static_cast<int32_t>(std::lround(0.5 / (0.02 * w.scales[0]))));
  EXPECT_EQ(r.multiplier.size(), 4u);
}

// Weights of every Conv of the small MobileNetV2 dequantize to within half a
// step of the (BN-folded) float weights; the step is recovered from the
// per-channel multiplier: w_scale = M * out_scale / in_scale.
TEST(Quantizer, MobileNetV2WeightsWithinHalfAStep) {
  const model::Graph g = quant_test::small_mobilenetv2();
  const QGraph q = quantize_with_random(g, 4);
  int convs = 0;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const model::Node& node = g.nodes[n];
    if (node.op != model::OpType::Conv) continue;
    ++convs;
    const QLayer& l = layer_named(q, node.name);
    const model::Tensor& w = g.tensors[static_cast<size_t>(node.inputs[1])];
    const int64_t cout = w.shape[0], cin = w.shape[1], kh = w.shape[2], kw = w.shape[3];
    const double in_scale = q.tensors[static_cast<size_t>(l.inputs[0])].quant.scale;
    const double out_scale = q.tensors[static_cast<size_t>(l.output)].quant.scale;
    for (int64_t o = 0; o < cout; ++o) {
      const double m =
          l.multiplier[static_cast<size_t>(o)] * std::exp2(l.shift[static_cast<size_t>(o)] - 31);
      const double step = m * out_scale / in_scale;
      for (int64_t i = 0; i < cin; ++i) {
        for (int64_t y = 0; y < kh; ++y) {
          for (int64_t x = 0; x < kw; ++x) {
            const float wf = w.data[static_cast<size_t>(((o * cin + i) * kh + y) * kw + x)];
            const int8_t wq = l.weights[static_cast<size_t>(((o * kh + y) * kw + x) * cin + i)];
            ASSERT_LE(std::fabs(wq * step - wf), 0.5 * step * 1.001 + 1e-12) << node.name;
          }
        }
      }
    }
  }
  EXPECT_GT(convs, 20);
}

// The first Conv (3x3 stride 2, ReLU6) run through the int8 conv kernel on
// the quantized input agrees with the float engine within a few steps.
TEST(Quantizer, ConvLayerThroughTheKernelMatchesFloat) {
  const model::Graph g = quant_test::small_mobilenetv2();
  const QGraph q = quantize_with_random(g, 8);
  for (const size_t node_index : {size_t{0}, size_t{1}}) {  // full conv, then depthwise
    const model::Node& node = g.nodes[node_index];
    ASSERT_EQ(node.op, model::OpType::Conv);
    const QLayer& l = layer_named(q, node.name);
    // The layer's float input: the graph input, or the first conv's output.
    model::FloatTensor x{g.tensors[static_cast<size_t>(g.inputs[0])].shape,
                         random_values(3 * 32 * 32, 99, 2.0f)};
    if (node_index == 1) {
      model::FloatTensor w{g.tensors[static_cast<size_t>(g.nodes[0].inputs[1])].shape,
                           g.tensors[static_cast<size_t>(g.nodes[0].inputs[1])].data};
      model::FloatTensor b{g.tensors[static_cast<size_t>(g.nodes[0].inputs[2])].shape,
                           g.tensors[static_cast<size_t>(g.nodes[0].inputs[2])].data};
      x = model::evaluate_node(g, g.nodes[0], {&x, &w, &b})[0];
    }
    const QTensor& in_t = q.tensors[static_cast<size_t>(l.inputs[0])];
    const QTensor& out_t = q.tensors[static_cast<size_t>(l.output)];
    // Quantize the NCHW float input to NHWC int8.
    std::vector<int8_t> in(static_cast<size_t>(in_t.bytes()));
    const auto [c, h, w] = in_t.shape;
    for (int32_t ci = 0; ci < c; ++ci)
      for (int32_t y = 0; y < h; ++y)
        for (int32_t xx = 0; xx < w; ++xx) {
          const float v = x.data[static_cast<size_t>((ci * h + y) * w + xx)];
          const auto qv = static_cast<int8_t>(std::clamp<long>(
              std::lround(v / in_t.quant.scale) + in_t.quant.zero_point, -128, 127));
          in[static_cast<size_t>((y * w + xx) * c + ci)] = qv;
          // The float side sees the same (dequantized) input: what remains is
          // the layer's own error (weights, bias, requantization, rounding).
          x.data[static_cast<size_t>((ci * h + y) * w + xx)] =
              in_t.quant.scale * static_cast<float>(qv - in_t.quant.zero_point);
        }
    std::vector<const model::FloatTensor*> args{&x};
    std::vector<model::FloatTensor> consts;
    consts.reserve(2);
    for (size_t i = 1; i < node.inputs.size(); ++i) {
      const model::Tensor& t = g.tensors[static_cast<size_t>(node.inputs[i])];
      consts.emplace_back(t.shape, t.data);
      args.push_back(&consts.back());
    }
    const model::FloatTensor expected = model::evaluate_node(g, node, args)[0];

    std::vector<int8_t> out(static_cast<size_t>(out_t.bytes()));
    kernels::Int8ConvParams p = l.conv;
    p.weights = l.weights.data();
    p.bias = l.bias.empty() ? nullptr : l.bias.data();
    p.requant = {l.multiplier.data(), l.shift.data()};
    const core::Box out_box = core::full_box(out_t.shape);
    const int32_t scratch_bytes = kernels::int8_conv_dispatch_scratch_bytes(p, out_box);
    std::vector<int32_t> scratch(static_cast<size_t>(scratch_bytes + 3) / 4);
    ASSERT_EQ(kernels::int8_conv_dispatch(
                  p, {in.data(), core::full_box(in_t.shape)}, {out.data(), out_box},
                  {reinterpret_cast<int8_t*>(scratch.data()), scratch_bytes}),
              kernels::KernelStatus::Ok);

    const auto [oc, oh, ow] = out_t.shape;
    double worst = 0.0;
    double sum = 0.0;
    double sum_abs = 0.0;
    for (int32_t co = 0; co < oc; ++co)
      for (int32_t y = 0; y < oh; ++y)
        for (int32_t xx = 0; xx < ow; ++xx) {
          const float f = expected.data[static_cast<size_t>((co * oh + y) * ow + xx)];
          const float got = out_t.quant.scale *
                            static_cast<float>(out[static_cast<size_t>((y * ow + xx) * oc + co)] -
                                               out_t.quant.zero_point);
          const double steps = static_cast<double>(got - f) / out_t.quant.scale;
          worst = std::max(worst, std::fabs(steps));
          sum += steps;
          sum_abs += std::fabs(steps);
        }
    const double count = static_cast<double>(out_t.bytes());
    std::printf(
        "[ measure  ] %s: |int8 - float| worst %.2f, mean %.2f output steps; mean "
        "signed %.3f\n",
        node.name.c_str(), worst, sum_abs / count, sum / count);
    // Weight rounding over up to 27 taps plus output rounding: a few steps at
    // worst, well under one on average, and no systematic offset.
    EXPECT_LE(worst, 3.0) << node.name;
    EXPECT_LE(sum_abs / count, 0.75) << node.name;
    EXPECT_LE(std::fabs(sum / count), 0.1) << node.name;
  }
}

struct Agreement {
  double mean_abs_error = 0.0;  // in units of the output range
  double top1 = 0.0;
};

Agreement compare_with_float(const model::Graph& g, const QGraph& q, int inputs, uint32_t seed) {
  Int8Executor exec(q);
  const model::Dims shape = g.tensors[static_cast<size_t>(g.inputs[0])].shape;
  Agreement a;
  double range = 0.0;
  int same = 0;
  for (int i = 0; i < inputs; ++i) {
    const model::FloatTensor x{shape,
                               random_values(static_cast<size_t>(model::element_count(shape)),
                                             seed + static_cast<uint32_t>(i), 1.5f)};
    const std::vector<float> f = model::run_graph(g, {x})[0].data;
    const std::vector<float> qf = exec.run_float(x.data);
    EXPECT_EQ(qf.size(), f.size());
    const auto [lo, hi] = std::minmax_element(f.begin(), f.end());
    range = std::max(range, static_cast<double>(*hi - *lo));
    for (size_t k = 0; k < f.size(); ++k) a.mean_abs_error += std::fabs(qf[k] - f[k]);
    same += std::max_element(f.begin(), f.end()) - f.begin() ==
            std::max_element(qf.begin(), qf.end()) - qf.begin();
  }
  const auto out_size =
      static_cast<double>(model::element_count(g.tensors[static_cast<size_t>(g.outputs[0])].shape));
  a.mean_abs_error /= inputs * out_size * std::max(range, 1e-9);
  a.top1 = static_cast<double>(same) / inputs;
  return a;
}

TEST(Quantizer, SmallMobileNetV2AgreesWithFloat) {
  const model::Graph g = quant_test::small_mobilenetv2();
  const QGraph q = quantize_with_random(g, 32);
  EXPECT_EQ(q.source_model, "test.onnx");
  EXPECT_EQ(q.tensors[static_cast<size_t>(q.input)].shape, (core::TensorShape3{3, 32, 32}));
  EXPECT_EQ(q.tensors[static_cast<size_t>(q.output)].shape, (core::TensorShape3{10, 1, 1}));
  const Agreement a = compare_with_float(g, q, 20, 1000);
  std::printf(
      "[ measure  ] small MobileNetV2: mean |int8 - float| = %.4f of the logit range, "
      "top-1 agreement %.0f%%\n",
      a.mean_abs_error, 100.0 * a.top1);
  EXPECT_LT(a.mean_abs_error, 0.05);
}

// Every other int8 operator, in one graph: max pool, average pool with
// padding (not counted), channel concat with different input scales, a
// ReduceMean over H and W, Flatten and a Gemm with alpha, beta and bias.
TEST(Quantizer, PoolsConcatReduceMeanGemmAgreeWithFloat) {
  OnnxBuilder b;
  b.input("x", {1, 3, 9, 9})
      .initializer("w1", {4, 3, 3, 3}, random_values(108, 2, 0.5f))
      .initializer("b1", {4}, random_values(4, 3, 0.2f))
      .initializer("w2", {5, 4, 1, 1}, random_values(20, 4, 0.8f))
      .initializer("fc_w", {6, 9}, random_values(54, 5, 0.7f))
      .initializer("fc_b", {6}, random_values(6, 6, 0.3f))
      .output("y");
  b.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1").ints("pads", {1, 1, 1, 1});
  b.node("Relu", {"c1"}, {"r1"});
  b.node("MaxPool", {"r1"}, {"m"}, "maxpool").ints("kernel_shape", {2, 2}).ints("strides", {2, 2});
  b.node("AveragePool", {"m"}, {"a"}, "avgpool")
      .ints("kernel_shape", {3, 3})
      .ints("pads", {1, 1, 1, 1});
  b.node("Conv", {"m", "w2"}, {"c2"}, "conv2");
  b.node("Concat", {"a", "c2"}, {"cat"}, "concat").i("axis", 1);
  b.node("ReduceMean", {"cat"}, {"mean"}, "reduce").ints("axes", {2, 3}).i("keepdims", 1);
  b.node("Flatten", {"mean"}, {"flat"}, "flatten");
  b.node("Gemm", {"flat", "fc_w", "fc_b"}, {"y"}, "fc")
      .i("transB", 1)
      .f("alpha", 0.5f)
      .f("beta", 2.0f);
  const model::Graph g = prepared(b);
  const QGraph q = quantize_with_random(g, 16);
  std::vector<std::string> ops;
  for (const QLayer& l : q.layers) ops.push_back(op_type_name(l.op));
  EXPECT_EQ(ops, (std::vector<std::string>{"Conv", "MaxPool", "AveragePool", "Conv", "Concat",
                                           "GlobalAveragePool", "Reshape", "FullyConnected"}));
  // Pools and reshapes keep their input's parameters.
  const QLayer& pool = layer_named(q, "maxpool");
  EXPECT_EQ(q.tensors[static_cast<size_t>(pool.output)].quant.scale,
            q.tensors[static_cast<size_t>(pool.inputs[0])].quant.scale);
  const Agreement a = compare_with_float(g, q, 10, 50);
  EXPECT_LT(a.mean_abs_error, 0.03);
}

// Flatten of a [1,C,H,W] with H,W > 1 into Gemm: the fully connected weight
// columns are permuted to the int8 tensor's HWC order.
TEST(Quantizer, FlattenOfFeatureMapIntoGemmPermutesColumns) {
  OnnxBuilder b;
  b.input("x", {1, 2, 3, 3})
      .initializer("w", {4, 2, 1, 1}, random_values(8, 7, 1.0f))
      .initializer("fc_w", {36, 5}, random_values(180, 8, 0.5f))
      .output("y");
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Flatten", {"c"}, {"flat"}, "flatten");
  b.node("MatMul", {"flat", "fc_w"}, {"y"}, "fc");
  const model::Graph g = prepared(b);
  const QGraph q = quantize_with_random(g, 16);
  const Agreement a = compare_with_float(g, q, 10, 70);
  EXPECT_LT(a.mean_abs_error, 0.03);
}

TEST(Quantizer, UnsupportedGraphsFailNamingTheNode) {
  const auto quantize = [](OnnxBuilder& b) { quantize_with_random(prepared(b), 2); };
  {
    OnnxBuilder b;
    b.input("x", {1, 4, 4, 4}).input("s", {1, 4, 1, 1}).output("y");
    b.node("Add", {"x", "s"}, {"y"}, "broadcast_add");
    expect_error([&] { quantize_graph(prepared(b), {}, "m"); }, {"one input"});
  }
  {
    OnnxBuilder b;
    b.input("x", {1, 4, 4, 4}).initializer("w", {4, 4, 1, 1}, ramp(16)).output("y");
    b.initializer("s", {1, 4, 1, 1}, {1, 2, 3, 4});
    b.node("Conv", {"x", "w"}, {"c"}, "conv");
    b.node("GlobalAveragePool", {"c"}, {"g"}, "gap");
    b.node("Add", {"c", "g"}, {"y"}, "broadcast_add");
    expect_error([&] { quantize(b); }, {"'broadcast_add'", "broadcasting"});
  }
  {
    OnnxBuilder b;
    b.input("x", {1, 4, 4, 4}).initializer("s", {1, 4, 4, 4}, ramp(64)).output("y");
    b.node("Add", {"x", "s"}, {"y"}, "const_add");
    expect_error([&] { quantize(b); }, {"'const_add'", "constant"});
  }
  {
    OnnxBuilder b;
    b.input("x", {1, 1, 1, 1}).output("y");
    b.node("Conv", {"x", "x"}, {"y"}, "dynamic_conv");
    expect_error([&] { quantize(b); }, {"'dynamic_conv'", "not a constant"});
  }
  {
    OnnxBuilder b;
    b.input("x", {2, 3, 4, 4}).initializer("w", {2, 3, 1, 1}, ramp(6)).output("y");
    b.node("Conv", {"x", "w"}, {"y"}, "conv");
    expect_error([&] { quantize(b); }, {"batch 1"});
  }
  {
    OnnxBuilder b;
    b.input("x", {1, 2, 4, 4}).output("y");
    b.node("MaxPool", {"x"}, {"m"}, "pool").ints("kernel_shape", {2, 2});
    b.node("Relu", {"m"}, {"y"}, "lonely_relu");
    expect_error([&] { quantize(b); }, {"'lonely_relu'", "folded"});
  }
  {
    OnnxBuilder b;
    b.input("x", {1, 2, 4, 4}).initializer("w", {3, 2, 1, 1}, ramp(6)).output("y");
    b.node("Conv", {"x", "w"}, {"c"}, "conv");
    b.node("Flatten", {"c"}, {"y"}, "flatten");
    expect_error([&] { quantize(b); }, {"graph output", "Gemm/MatMul"});
  }
  {
    OnnxBuilder b;
    b.input("x", {1, 2, 4, 4}).output("y");
    b.node("AveragePool", {"x"}, {"y"}, "counting_pool")
        .ints("kernel_shape", {3, 3})
        .ints("pads", {1, 1, 1, 1})
        .i("count_include_pad", 1);
    expect_error([&] { quantize(b); }, {"'counting_pool'", "count_include_pad"});
  }
}

}  // namespace
}  // namespace mcusplit::quant
