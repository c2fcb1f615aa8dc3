// Conv and fully connected (Gemm / MatMul) layers: the ops with weights.
#include <fmt/format.h>

#include "quant/quantizer_context.h"
#include "quant/weight_quantization.h"

namespace mcusplit::quant::detail {
namespace {

int32_t to_i32(int64_t v) {
  return static_cast<int32_t>(v);
}

// Bias values, broadcast to `channels` (Gemm's C may be a scalar or [1, N]).
std::vector<float> bias_values(QuantizerContext& ctx, const model::Node& node,
                               const model::Tensor* bias, int64_t channels, float beta) {
  std::vector<float> b;
  if (bias == nullptr) return b;
  const auto n = static_cast<int64_t>(bias->data.size());
  if (n != channels && n != 1) {
    ctx.fail(node, fmt::format("bias '{}' has shape {}, need {} values", bias->name,
                               model::dims_to_string(bias->shape), channels));
  }
  for (int64_t c = 0; c < channels; ++c) {
    b.push_back(beta * bias->data[static_cast<size_t>(n == 1 ? 0 : c)]);
  }
  return b;
}

void set_weights(QLayer& layer, const PerChannelWeights& w, const Requantization& r) {
  layer.weights = w.values;
  layer.bias = r.bias;
  layer.multiplier = r.multiplier;
  layer.shift = r.shift;
}

}  // namespace

void quantize_conv(QuantizerContext& ctx, const model::Node& node) {
  const int in = ctx.activation_input(node, 0);
  const model::Tensor* weight = ctx.constant_input(node, 1, "weights");
  if (weight == nullptr) ctx.fail(node, "has no weights");
  const model::Tensor* bias = ctx.constant_input(node, 2, "bias");
  const model::Dims& wd = weight->shape;
  const core::TensorShape3 in_shape = ctx.qtensor(in).shape;
  if (ctx.tensor(node.inputs[0]).shape.size() != 4 || wd.size() != 4) {
    ctx.fail(node, "int8 supports 2-D convolutions only");
  }
  const int64_t groups = node.conv.group;
  if (groups < 1 || in_shape.c % groups != 0 || wd[0] % groups != 0 ||
      wd[1] != in_shape.c / groups) {
    ctx.fail(node, fmt::format("weights {} do not match {} input channels in {} groups",
                               model::dims_to_string(wd), in_shape.c, groups));
  }
  const QTensor& in_t = ctx.qtensor(in);
  const core::QuantParams in_q = in_t.quant;
  const int out = ctx.add_output(node);
  const QTensor& out_t = ctx.qtensor(out);
  if (out_t.shape.c != wd[0]) ctx.fail(node, "output channels disagree with the weights");

  // ONNX OIHW -> OHWI ([Cout][kh][kw][Cin/groups]), the kernels' layout.
  const int64_t cout = wd[0], cin = wd[1], kh = wd[2], kw = wd[3];
  std::vector<float> ohwi(weight->data.size());
  for (int64_t o = 0; o < cout; ++o) {
    for (int64_t i = 0; i < cin; ++i) {
      for (int64_t y = 0; y < kh; ++y) {
        for (int64_t x = 0; x < kw; ++x) {
          ohwi[static_cast<size_t>(((o * kh + y) * kw + x) * cin + i)] =
              weight->data[static_cast<size_t>(((o * cin + i) * kh + y) * kw + x)];
        }
      }
    }
  }
  const PerChannelWeights w = quantize_per_channel(ohwi, cout);
  const Requantization r =
      requantization(bias_values(ctx, node, bias, cout, 1.0f), w.scales, in_q, out_t.quant);

  QLayer& layer = ctx.add_layer(node, OpType::Conv, {in}, out);
  kernels::Int8ConvParams& p = layer.conv;
  p.input = ctx.qtensor(in).shape;
  p.output = ctx.qtensor(out).shape;
  p.kernel_h = to_i32(kh);
  p.kernel_w = to_i32(kw);
  p.stride_h = to_i32(node.conv.window.strides[0]);
  p.stride_w = to_i32(node.conv.window.strides[1]);
  p.pad_top = to_i32(node.conv.window.pads[0]);
  p.pad_left = to_i32(node.conv.window.pads[1]);
  p.groups = to_i32(groups);
  p.input_zero_point = in_q.zero_point;
  p.output_zero_point = ctx.qtensor(out).quant.zero_point;
  p.activation = activation_clamp(node.activation, ctx.qtensor(out).quant);
  p.weights_c0 = 0;
  p.weights_c1 = to_i32(cout);
  set_weights(layer, w, r);
}

void quantize_fully_connected(QuantizerContext& ctx, const model::Node& node) {
  const bool gemm = node.op == model::OpType::Gemm;
  if (gemm && node.gemm.trans_a) ctx.fail(node, "int8 does not support Gemm with transA=1");
  const int in = ctx.activation_input(node, 0, /*allow_hwc_flatten=*/true);
  const model::Tensor* weight = ctx.constant_input(node, 1, "weights");
  if (weight == nullptr) ctx.fail(node, "has no weights");
  const model::Tensor* bias = gemm ? ctx.constant_input(node, 2, "bias") : nullptr;
  if (ctx.tensor(node.inputs[0]).shape.size() != 2 || weight->shape.size() != 2) {
    ctx.fail(node, fmt::format("int8 needs a [1, K] input and a 2-D weight, got {} and {}",
                               model::dims_to_string(ctx.tensor(node.inputs[0]).shape),
                               model::dims_to_string(weight->shape)));
  }
  const bool trans_b = gemm && node.gemm.trans_b;
  const int64_t k = trans_b ? weight->shape[1] : weight->shape[0];
  const int64_t n = trans_b ? weight->shape[0] : weight->shape[1];
  const QTensor& in_t = ctx.qtensor(in);
  if (in_t.shape.c != k) {
    ctx.fail(node, fmt::format("input has {} values, weights expect {}", in_t.shape.c, k));
  }
  const core::QuantParams in_q = in_t.quant;
  const std::optional<core::TensorShape3> hwc = ctx.hwc_flatten(in);
  const float alpha = gemm ? node.gemm.alpha : 1.0f;
  const float beta = gemm ? node.gemm.beta : 1.0f;

  // Column j of row o in the kernel's order reads element `source_col(j)` of
  // ONNX's flattened (CHW) input.
  std::vector<int64_t> source_col(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) source_col[static_cast<size_t>(j)] = j;
  if (hwc) {
    const int64_t c = hwc->c, h = hwc->h, w = hwc->w;
    for (int64_t ci = 0; ci < c; ++ci) {
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          source_col[static_cast<size_t>((y * w + x) * c + ci)] = (ci * h + y) * w + x;
        }
      }
    }
  }
  std::vector<float> rows(static_cast<size_t>(n * k));
  for (int64_t o = 0; o < n; ++o) {
    for (int64_t j = 0; j < k; ++j) {
      const int64_t s = source_col[static_cast<size_t>(j)];
      const size_t at = static_cast<size_t>(trans_b ? o * k + s : s * n + o);
      rows[static_cast<size_t>(o * k + j)] = alpha * weight->data[at];
    }
  }

  const int out = ctx.add_output(node);
  if (ctx.qtensor(out).shape.c != n) ctx.fail(node, "output size disagrees with the weights");
  const core::QuantParams out_q = ctx.qtensor(out).quant;
  const PerChannelWeights w = quantize_per_channel(rows, n);
  const Requantization r =
      requantization(bias_values(ctx, node, bias, n, beta), w.scales, in_q, out_q);

  QLayer& layer = ctx.add_layer(node, OpType::FullyConnected, {in}, out);
  kernels::Int8FullyConnectedParams& p = layer.fc;
  p.input_size = to_i32(k);
  p.output_size = to_i32(n);
  p.input_zero_point = in_q.zero_point;
  p.output_zero_point = out_q.zero_point;
  p.activation = activation_clamp(node.activation, out_q);
  p.per_tensor_requant = false;
  p.weights_n0 = 0;
  p.weights_n1 = to_i32(n);
  set_weights(layer, w, r);
}

}  // namespace mcusplit::quant::detail
