// The layer writers. Each checks that TFLM, reading the file, derives the
// layer's own integers (requantization from the scales, clamps from the fused
// activation, windows from the padding), then writes the operator with its
// options and constants.
#include "tflite/export_ops.h"

#include <fmt/core.h>

#include <optional>

#include "common/error.h"
#include "tflite/export_quantization.h"
#include "tflite/tflite_operators.h"

namespace mcusplit::tflite {

void refuse_layer(const quant::QLayer& layer, const std::string& why) {
  throw Error(fmt::format("cannot export layer '{}' ({}): {}", layer.name,
                          quant::op_type_name(layer.op), why));
}

namespace {

using F = fb::ActivationFunctionType;

const quant::QTensor& tensor(const ExportModel& m, int q) {
  return m.graph().tensors[static_cast<size_t>(q)];
}

std::string quant_text(const core::QuantParams& q) {
  return fmt::format("scale {} zero point {}", q.scale, q.zero_point);
}

F fused_function(const quant::QLayer& l, const core::ActivationRange& range,
                 const core::QuantParams& out) {
  const auto f = fused_function_for(range, out);
  if (!f) {
    refuse_layer(l, fmt::format("its output clamp [{}, {}] is none of TFLite's fused activations "
                                "(NONE, RELU, RELU6, RELU_N1_TO_1) at the output's {}",
                                range.min, range.max, quant_text(out)));
  }
  return *f;
}

void require_same_quant(const quant::QLayer& l, const core::QuantParams& in,
                        const core::QuantParams& out) {
  if (!(in == out)) {
    refuse_layer(l, "its input (" + quant_text(in) + ") and output (" + quant_text(out) +
                        ") quantization differ; the TFLite operator does not rescale");
  }
}

// The float32 weight scales TFLM turns into the layer's multipliers.
std::vector<float> weight_scales(const quant::QLayer& l, const core::QuantParams& in,
                                 const core::QuantParams& out, size_t count) {
  if (l.multiplier.size() != count || l.shift.size() != count) {
    refuse_layer(
        l, fmt::format("it has {} multipliers for {} output channels", l.multiplier.size(), count));
  }
  std::vector<float> scales;
  for (size_t c = 0; c < count; ++c) {
    const auto w = weight_scale_for(in.scale, out.scale, l.multiplier[c], l.shift[c]);
    if (!w) {
      refuse_layer(l, fmt::format("the requantization of output channel {} (multiplier {}, shift "
                                  "{}) is input scale * w / output scale for no float32 w",
                                  c, l.multiplier[c], l.shift[c]));
    }
    scales.push_back(*w);
  }
  return scales;
}

// An int8 weight tensor (symmetric: zero points 0) quantized along `dimension`.
ExportTensor weight_tensor(const quant::QLayer& l, std::vector<int32_t> shape,
                           std::vector<float> scales, int32_t dimension) {
  ExportTensor t;
  t.shape = std::move(shape);
  t.name = l.name + "/weights";
  t.zero_point.assign(scales.size(), 0);
  t.scale = std::move(scales);
  t.quantized_dimension = dimension;
  return t;
}

// The int32 bias (scale input scale * weight scale per channel), or -1 when
// the layer has none (TFLite's optional input).
int32_t bias_tensor(ExportModel& m, const quant::QLayer& l, const core::QuantParams& in,
                    const std::vector<float>& w_scales, size_t count) {
  if (l.bias.empty()) return -1;
  ExportTensor t;
  t.shape = {static_cast<int32_t>(count)};
  t.type = fb::TensorType::INT32;
  t.name = l.name + "/bias";
  for (size_t c = 0; c < count; ++c) {
    t.scale.push_back(in.scale * w_scales[w_scales.size() == 1 ? 0 : c]);
  }
  t.zero_point.assign(t.scale.size(), 0);
  return m.add_constant(std::move(t), l.bias);
}

int32_t int32_constant(ExportModel& m, const std::string& name, std::vector<int32_t> shape,
                       const std::vector<int32_t>& values) {
  ExportTensor t;
  t.shape = std::move(shape);
  t.type = fb::TensorType::INT32;
  t.name = name;
  return m.add_constant(std::move(t), values);
}

// The padding of a window, or a PAD (PADV2 with `pad_value`) in front of it
// when neither SAME nor VALID is the layer's; returns the tensor the window
// reads and its padding.
struct PaddedInput {
  int32_t tensor;
  fb::Padding padding;
};
PaddedInput padded_input(ExportModel& m, const quant::QLayer& l, const WindowGeometry& g,
                         std::optional<int8_t> pad_value) {
  const auto w = window_padding_for(g);
  const int in = l.inputs[0];
  if (!w) {
    refuse_layer(l, fmt::format("its padding (top {}, left {}) and output {}x{} are neither SAME, "
                                "VALID nor a PAD in front of a VALID window",
                                g.pad_top, g.pad_left, g.out_h, g.out_w));
  }
  if (!w->explicit_pad) return {m.tensor_of(in), w->padding};
  const quant::QTensor& q = tensor(m, in);
  ExportTensor padded;
  padded.shape = {1, g.in_h + w->top + w->bottom, g.in_w + w->left + w->right, q.shape.c};
  padded.name = l.name + "/pad";
  padded.scale = {q.quant.scale};
  padded.zero_point = {q.quant.zero_point};
  const int32_t out = m.add_activation(std::move(padded));
  const int32_t paddings = int32_constant(m, l.name + "/paddings", {4, 2},
                                          {0, 0, w->top, w->bottom, w->left, w->right, 0, 0});
  if (!pad_value) {
    // PAD fills int8 with the zero point: padding adds nothing to a convolution.
    m.add_operator(
        kPad, {m.tensor_of(in), paddings}, {out}, fb::BuiltinOptions::PadOptions,
        [](flatbuffers::FlatBufferBuilder& b) { return fb::CreatePadOptions(b).Union(); });
  } else {
    ExportTensor value;
    value.name = l.name + "/pad_value";
    value.scale = {q.quant.scale};
    value.zero_point = {q.quant.zero_point};
    const int32_t v = m.add_constant(std::move(value), std::vector<int8_t>{*pad_value});
    m.add_operator(
        kPadV2, {m.tensor_of(in), paddings, v}, {out}, fb::BuiltinOptions::PadV2Options,
        [](flatbuffers::FlatBufferBuilder& b) { return fb::CreatePadV2Options(b).Union(); });
  }
  return {out, fb::Padding::VALID};
}

}  // namespace

void export_conv(ExportModel& m, const quant::QLayer& l) {
  const kernels::Int8ConvParams& p = l.conv;
  const core::QuantParams in = tensor(m, l.inputs[0]).quant;
  const core::QuantParams out = tensor(m, l.output).quant;
  const int32_t cin = p.input.c, cout = p.output.c;
  const bool depthwise = p.groups > 1 && p.groups == cin;
  if (p.groups != 1 && !depthwise) {
    refuse_layer(l, fmt::format("{} groups of {} input channels: TFLite has CONV_2D (1 group) and "
                                "DEPTHWISE_CONV_2D (one group per input channel) only",
                                p.groups, cin));
  }
  if (p.weights_c0 != 0 || p.weights_c1 != cout) {
    refuse_layer(l, "it holds a slice of its weights, not all output channels");
  }
  if (p.input_zero_point != in.zero_point || p.output_zero_point != out.zero_point) {
    refuse_layer(l, "its zero points differ from its tensors'");
  }
  const F act = fused_function(l, p.activation, out);
  const std::vector<float> scales = weight_scales(l, in, out, static_cast<size_t>(cout));
  const WindowGeometry g{p.input.h,    p.input.w,    p.output.h, p.output.w,
                         p.kernel_h,   p.kernel_w,   p.stride_h, p.stride_w,
                         p.dilation_h, p.dilation_w, p.pad_top,  p.pad_left};
  const PaddedInput input = padded_input(m, l, g, std::nullopt);
  const int32_t bias = bias_tensor(m, l, in, scales, static_cast<size_t>(cout));
  const struct {
    fb::Padding padding;
    int32_t stride_h, stride_w, dilation_h, dilation_w;
    F activation;
  } w{input.padding, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, act};
  if (!depthwise) {
    // The kernels' OHWI is TFLite's [Cout][kh][kw][Cin] filter.
    const int32_t filter =
        m.add_constant(weight_tensor(l, {cout, p.kernel_h, p.kernel_w, cin}, scales, 0), l.weights);
    m.add_operator(kConv2D, {input.tensor, filter, bias}, {m.tensor_of(l.output)},
                   fb::BuiltinOptions::Conv2DOptions, [w](flatbuffers::FlatBufferBuilder& b) {
                     return fb::CreateConv2DOptions(b, w.padding, w.stride_w, w.stride_h,
                                                    w.activation, w.dilation_w, w.dilation_h)
                         .Union();
                   });
    return;
  }
  // [Cout][kh][kw] becomes TFLite's [1][kh][kw][Cout], quantized along Cout
  // (dimension 3, as TFLM's depthwise kernel requires).
  const int32_t taps = p.kernel_h * p.kernel_w;
  std::vector<int8_t> hwo(l.weights.size());
  for (int32_t c = 0; c < cout; ++c) {
    for (int32_t tap = 0; tap < taps; ++tap) {
      hwo[static_cast<size_t>(tap * cout + c)] = l.weights[static_cast<size_t>(c * taps + tap)];
    }
  }
  const int32_t filter =
      m.add_constant(weight_tensor(l, {1, p.kernel_h, p.kernel_w, cout}, scales, 3), hwo);
  const int32_t multiplier = cout / cin;
  m.add_operator(kDepthwiseConv2D, {input.tensor, filter, bias}, {m.tensor_of(l.output)},
                 fb::BuiltinOptions::DepthwiseConv2DOptions,
                 [w, multiplier](flatbuffers::FlatBufferBuilder& b) {
                   return fb::CreateDepthwiseConv2DOptions(b, w.padding, w.stride_w, w.stride_h,
                                                           multiplier, w.activation, w.dilation_w,
                                                           w.dilation_h)
                       .Union();
                 });
}

void export_fully_connected(ExportModel& m, const quant::QLayer& l) {
  const kernels::Int8FullyConnectedParams& p = l.fc;
  const core::QuantParams in = tensor(m, l.inputs[0]).quant;
  const core::QuantParams out = tensor(m, l.output).quant;
  if (p.weights_n0 != 0 || p.weights_n1 != p.output_size) {
    refuse_layer(l, "it holds a slice of its weights, not all neurons");
  }
  if (p.input_zero_point != in.zero_point || p.output_zero_point != out.zero_point) {
    refuse_layer(l, "its zero points differ from its tensors'");
  }
  const F act = fused_function(l, p.activation, out);
  // Per-tensor weights (one scale) or per-channel along the neurons.
  const size_t count = p.per_tensor_requant ? 1 : static_cast<size_t>(p.output_size);
  const std::vector<float> scales = weight_scales(l, in, out, count);
  const int32_t filter =
      m.add_constant(weight_tensor(l, {p.output_size, p.input_size}, scales, 0), l.weights);
  const int32_t bias = bias_tensor(m, l, in, scales, static_cast<size_t>(p.output_size));
  m.add_operator(kFullyConnected, {m.tensor_of(l.inputs[0]), filter, bias}, {m.tensor_of(l.output)},
                 fb::BuiltinOptions::FullyConnectedOptions,
                 [act](flatbuffers::FlatBufferBuilder& b) {
                   return fb::CreateFullyConnectedOptions(b, act).Union();
                 });
}

void export_add(ExportModel& m, const quant::QLayer& l) {
  const kernels::Int8AddParams& p = l.add;
  const core::QuantParams in1 = tensor(m, l.inputs[0]).quant;
  const core::QuantParams in2 = tensor(m, l.inputs[1]).quant;
  const core::QuantParams out = tensor(m, l.output).quant;
  const F act = fused_function(l, p.activation, out);
  // What TFLM's ADD prepares from the scales (left shift 20 for int8).
  const kernels::Int8AddParams tflm =
      kernels::make_int8_add_params(p.shape, in1, in2, out, p.activation);
  if (!(tflm == p)) {
    refuse_layer(l, "its rescaling (left shift " + std::to_string(p.left_shift) +
                        ") is not what TFLite's ADD derives from the tensors' scales");
  }
  if (p.output_shift > 0) {
    refuse_layer(l,
                 "its output scale is so small that TFLite's ADD would need a multiplier "
                 "above 1, which it refuses");
  }
  m.add_operator(
      kAdd, {m.tensor_of(l.inputs[0]), m.tensor_of(l.inputs[1])}, {m.tensor_of(l.output)},
      fb::BuiltinOptions::AddOptions,
      [act](flatbuffers::FlatBufferBuilder& b) { return fb::CreateAddOptions(b, act).Union(); });
}

void export_pool(ExportModel& m, const quant::QLayer& l) {
  const kernels::Int8PoolParams& p = l.pool;
  const core::QuantParams in = tensor(m, l.inputs[0]).quant;
  const core::QuantParams out = tensor(m, l.output).quant;
  require_same_quant(l, in, out);
  const F act = fused_function(l, p.activation, out);
  const bool max = l.op == quant::OpType::MaxPool;
  const WindowGeometry g{p.input.h,  p.input.w,  p.output.h, p.output.w, p.kernel_h, p.kernel_w,
                         p.stride_h, p.stride_w, 1,          1,          p.pad_top,  p.pad_left};
  if (!max) {
    // The average counts real cells only: SAME does too, a PAD's cells would count.
    const auto w = window_padding_for(g);
    if (!w || w->explicit_pad) {
      refuse_layer(l, fmt::format("its padding (top {}, left {}) is neither SAME nor VALID; "
                                  "padded cells would count in a TFLite average",
                                  p.pad_top, p.pad_left));
    }
  }
  // A max pool's padding never wins: a PADV2 in front fills with -128.
  const PaddedInput input = padded_input(m, l, g, max ? std::optional<int8_t>(-128) : std::nullopt);
  const int32_t code = max ? kMaxPool2D : kAveragePool2D;
  m.add_operator(code, {input.tensor}, {m.tensor_of(l.output)}, fb::BuiltinOptions::Pool2DOptions,
                 [p, act, padding = input.padding](flatbuffers::FlatBufferBuilder& b) {
                   return fb::CreatePool2DOptions(b, padding, p.stride_w, p.stride_h, p.kernel_w,
                                                  p.kernel_h, act)
                       .Union();
                 });
}

void export_global_average_pool(ExportModel& m, const quant::QLayer& l) {
  const kernels::Int8GlobalAveragePoolParams& p = l.global_pool;
  const core::QuantParams in = tensor(m, l.inputs[0]).quant;
  const core::QuantParams out = tensor(m, l.output).quant;
  // MEAN over H and W with keep_dims: TFLM's int8 Mean for that case sums
  // (in - in_zp), rescales by in/out scale, divides rounding half away from
  // zero and adds out_zp: the layer's arithmetic. AVERAGE_POOL_2D over the
  // whole map would round the raw sum (halves away from 0, not from the zero
  // point) and cannot rescale, so it is not bit-exact.
  if (!(p == kernels::make_int8_global_average_pool_params(p.input, in, out))) {
    refuse_layer(l,
                 "its parameters are not what TFLite's MEAN derives from the tensors' "
                 "quantization (MEAN has no fused activation)");
  }
  const int32_t axes = int32_constant(m, l.name + "/axes", {2}, {1, 2});
  m.add_operator(kMean, {m.tensor_of(l.inputs[0]), axes}, {m.tensor_of(l.output)},
                 fb::BuiltinOptions::ReducerOptions, [](flatbuffers::FlatBufferBuilder& b) {
                   return fb::CreateReducerOptions(b, /*keep_dims=*/true).Union();
                 });
}

void export_concat(ExportModel& m, const quant::QLayer& l) {
  const core::QuantParams out = tensor(m, l.output).quant;
  const core::TensorShape3 os = tensor(m, l.output).shape;
  if (l.concat.size() != l.inputs.size() || l.inputs.empty()) {
    refuse_layer(l, "its per-input blocks do not match its inputs");
  }
  // Along one axis (channels, rows or columns), inputs in order, each
  // starting where the one before ended.
  const auto along = [&](int axis) {
    int32_t offset = 0;
    for (const kernels::Int8ConcatParams& c : l.concat) {
      const int32_t offsets[] = {c.offset_c, c.offset_y, c.offset_x};
      const int32_t in_dims[] = {c.input.c, c.input.h, c.input.w};
      const int32_t out_dims[] = {os.c, os.h, os.w};
      for (int a = 0; a < 3; ++a) {
        if (a == axis ? offsets[a] != offset : offsets[a] != 0 || in_dims[a] != out_dims[a]) {
          return false;
        }
      }
      offset += in_dims[axis];
    }
    return offset == (axis == 0 ? os.c : axis == 1 ? os.h : os.w);
  };
  int32_t axis = -1;  // TFLite's NHWC axis
  if (along(0))
    axis = 3;
  else if (along(1))
    axis = 1;
  else if (along(2))
    axis = 2;
  if (axis < 0) refuse_layer(l, "its inputs are not placed one after another along one axis");
  std::vector<int32_t> inputs;
  for (size_t i = 0; i < l.inputs.size(); ++i) {
    // TFLM's int8 CONCATENATION copies: every input must share the output's
    // quantization.
    const core::QuantParams q = tensor(m, l.inputs[i]).quant;
    if (!(q == out)) {
      refuse_layer(l, fmt::format("input {} ({}) is quantized unlike the output ({}); TFLite's "
                                  "int8 CONCATENATION does not rescale",
                                  i, quant_text(q), quant_text(out)));
    }
    inputs.push_back(m.tensor_of(l.inputs[i]));
  }
  m.add_operator(kConcatenation, inputs, {m.tensor_of(l.output)},
                 fb::BuiltinOptions::ConcatenationOptions,
                 [axis](flatbuffers::FlatBufferBuilder& b) {
                   return fb::CreateConcatenationOptions(b, axis).Union();
                 });
}

void export_reshape(ExportModel& m, const quant::QLayer& l) {
  require_same_quant(l, tensor(m, l.inputs[0]).quant, tensor(m, l.output).quant);
  const std::vector<int32_t> shape = m.shape_of(l.output);
  const int32_t shape_tensor =
      int32_constant(m, l.name + "/shape", {static_cast<int32_t>(shape.size())}, shape);
  m.add_operator(kReshape, {m.tensor_of(l.inputs[0]), shape_tensor}, {m.tensor_of(l.output)},
                 fb::BuiltinOptions::ReshapeOptions, [shape](flatbuffers::FlatBufferBuilder& b) {
                   return fb::CreateReshapeOptionsDirect(b, &shape).Union();
                 });
}

void export_softmax(ExportModel& m, const quant::QLayer& l) {
  const core::QuantParams in = tensor(m, l.inputs[0]).quant;
  const core::QuantParams out = tensor(m, l.output).quant;
  if (out.zero_point != -128 || out.scale != 1.0f / 256.0f) {
    refuse_layer(l, "its output is quantized with " + quant_text(out) +
                        "; TFLite's int8 SOFTMAX writes scale 1/256, zero point -128");
  }
  const auto beta = softmax_beta_for(l.softmax, in.scale);
  if (!beta) refuse_layer(l, "no float32 beta gives its input multiplier at the input's scale");
  m.add_operator(kSoftmax, {m.tensor_of(l.inputs[0])}, {m.tensor_of(l.output)},
                 fb::BuiltinOptions::SoftmaxOptions,
                 [b = *beta](flatbuffers::FlatBufferBuilder& fbb) {
                   return fb::CreateSoftmaxOptions(fbb, b).Union();
                 });
}

void export_pad(ExportModel& m, const quant::QLayer& l) {
  const kernels::Int8PadParams& p = l.pad;
  const core::QuantParams in = tensor(m, l.inputs[0]).quant;
  require_same_quant(l, in, tensor(m, l.output).quant);
  if (const char* problem = kernels::check_int8_pad_params(p)) refuse_layer(l, problem);
  const int32_t paddings = int32_constant(
      m, l.name + "/paddings", {4, 2},
      {0, 0, p.pad_top, p.output.h - p.input.h - p.pad_top, p.pad_left,
       p.output.w - p.input.w - p.pad_left, p.pad_c, p.output.c - p.input.c - p.pad_c});
  const std::vector<int32_t> outputs{m.tensor_of(l.output)};
  if (p.value == in.zero_point) {
    // PAD fills int8 with the zero point.
    m.add_operator(
        kPad, {m.tensor_of(l.inputs[0]), paddings}, outputs, fb::BuiltinOptions::PadOptions,
        [](flatbuffers::FlatBufferBuilder& b) { return fb::CreatePadOptions(b).Union(); });
    return;
  }
  ExportTensor value;
  value.name = l.name + "/pad_value";
  value.scale = {in.scale};
  value.zero_point = {in.zero_point};
  const int32_t v =
      m.add_constant(std::move(value), std::vector<int8_t>{static_cast<int8_t>(p.value)});
  m.add_operator(
      kPadV2, {m.tensor_of(l.inputs[0]), paddings, v}, outputs, fb::BuiltinOptions::PadV2Options,
      [](flatbuffers::FlatBufferBuilder& b) { return fb::CreatePadV2Options(b).Union(); });
}

}  // namespace mcusplit::tflite
