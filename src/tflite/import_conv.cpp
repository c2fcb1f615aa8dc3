// CONV_2D and DEPTHWISE_CONV_2D into the Conv layer: weights already OHWI
// (depthwise [1][kh][kw][Cout] becomes [Cout][kh][kw]), int32 bias as it is,
// one multiplier and shift per output channel from input_scale *
// weight_scale[c] / output_scale, as TFLM's PopulateConvolutionQuantizationParams.
#include <algorithm>
#include <climits>

#include "tflite/import_ops.h"

namespace mcusplit::tflite {

// In 64 bits: a file's stride, kernel or dilation may be any int32 (a
// fuzzer found the overflow). Results outside int32 are clamped, so they
// never equal a real dimension and the caller's shape check refuses them.
AxisWindow tflite_axis_window(fb::Padding padding, int32_t in, int32_t kernel, int32_t stride,
                              int32_t dilation) {
  const auto clamp32 = [](int64_t v) {
    return static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX));
  };
  const int64_t effective = (int64_t{kernel} - 1) * dilation + 1;
  const int64_t out = padding == fb::Padding::SAME ? (int64_t{in} + stride - 1) / stride
                                                   : (int64_t{in} - effective + stride) / stride;
  const int64_t total = (out - 1) * stride + effective - in;
  AxisWindow w;
  w.out = clamp32(out);
  w.pad_before = total > 0 ? clamp32(total / 2) : 0;
  return w;
}

namespace {

struct Window {
  fb::Padding padding = fb::Padding::SAME;
  int32_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  fb::ActivationFunctionType activation = fb::ActivationFunctionType::NONE;
};

}  // namespace

ConvInput conv_input(ImportContext& ctx) {
  const int32_t x = ctx.input(0);
  ConvInput c;
  if (const ImportContext::FoldedPad* pad = ctx.folded_pad(x)) {
    // Padding with the input's zero point adds nothing to any sum: the
    // convolution reads the unpadded input and treats the PAD's rows and
    // columns as its own padding.
    c.tensor = ctx.activation(pad->source);
    c.pad_top = pad->top;
    c.pad_left = pad->left;
    c.h = pad->padded_h;
    c.w = pad->padded_w;
    return c;
  }
  c.tensor = ctx.activation(x);
  c.h = ctx.qtensor(c.tensor).shape.h;
  c.w = ctx.qtensor(c.tensor).shape.w;
  return c;
}

namespace {

// The Conv layer of a convolution whose weights are OHWI ([Cout][kh][kw][Cin/groups]).
void add_conv_layer(ImportContext& ctx, const Window& win, int32_t kernel_h, int32_t kernel_w,
                    int32_t groups, std::vector<int8_t> weights, int32_t filter_tensor) {
  const ConvInput input = conv_input(ctx);
  const int in = input.tensor;
  const int out = ctx.activation(ctx.output());
  const quant::QTensor& qin = ctx.qtensor(in);
  const quant::QTensor& qout = ctx.qtensor(out);
  const int32_t cout = qout.shape.c;
  if (win.stride_h < 1 || win.stride_w < 1 || win.dilation_h < 1 || win.dilation_w < 1) {
    ctx.fail("strides and dilations must be at least 1");
  }
  const AxisWindow ys =
      tflite_axis_window(win.padding, input.h, kernel_h, win.stride_h, win.dilation_h);
  const AxisWindow xs =
      tflite_axis_window(win.padding, input.w, kernel_w, win.stride_w, win.dilation_w);
  if (!(qout.shape == core::TensorShape3{cout, ys.out, xs.out})) {
    ctx.fail("output " + ctx.tensor_label(ctx.output()) + " is " + std::to_string(qout.shape.h) +
             "x" + std::to_string(qout.shape.w) + " but the window gives " +
             std::to_string(ys.out) + "x" + std::to_string(xs.out));
  }
  quant::QLayer l;
  l.name = qout.name;
  l.op = quant::OpType::Conv;
  l.inputs = {in};
  l.output = out;
  kernels::Int8ConvParams& p = l.conv;
  p.input = qin.shape;
  p.output = qout.shape;
  p.kernel_h = kernel_h;
  p.kernel_w = kernel_w;
  p.stride_h = win.stride_h;
  p.stride_w = win.stride_w;
  p.dilation_h = win.dilation_h;
  p.dilation_w = win.dilation_w;
  p.pad_top = input.pad_top + ys.pad_before;
  p.pad_left = input.pad_left + xs.pad_before;
  p.groups = groups;
  p.input_zero_point = qin.quant.zero_point;
  p.output_zero_point = qout.quant.zero_point;
  p.activation = fused_activation(ctx, win.activation, qout.quant);
  p.weights_c0 = 0;
  p.weights_c1 = cout;
  l.weights = std::move(weights);
  ImportContext::add_requantization(l, ctx.weight_scales(filter_tensor, cout), cout,
                                    qin.quant.scale, qout.quant.scale);
  l.bias = ctx.optional_bias(cout, "output channels");
  ctx.add_layer(std::move(l));
}

}  // namespace

void import_conv_2d(ImportContext& ctx) {
  const auto* o = ctx.op().builtin_options_as_Conv2DOptions();
  if (o == nullptr) ctx.fail("has no Conv2DOptions");
  const int32_t filter = ctx.input(1);
  const std::vector<int32_t> fd = ctx.dims(filter);
  const int in = conv_input(ctx).tensor;
  const int out = ctx.activation(ctx.output());
  const int32_t cin = ctx.qtensor(in).shape.c;
  const int32_t cout = ctx.qtensor(out).shape.c;
  // [Cout][kh][kw][Cin/groups]: TFLite's filter is already the kernels' OHWI.
  if (fd.size() != 4 || fd[0] != cout || fd[1] < 1 || fd[2] < 1 || fd[3] < 1 || cin % fd[3] != 0 ||
      cout % (cin / fd[3]) != 0) {
    ctx.fail("filter " + ctx.tensor_label(filter) + " has shape " +
             shape_string(ctx.model().tensor(filter).shape()) + " for " + std::to_string(cin) +
             " input and " + std::to_string(cout) + " output channels");
  }
  const Window win{o->padding(),           o->stride_h(),          o->stride_w(),
                   o->dilation_h_factor(), o->dilation_w_factor(), o->fused_activation_function()};
  add_conv_layer(ctx, win, fd[1], fd[2], cin / fd[3], ctx.int8_constant(filter), filter);
}

void import_depthwise_conv_2d(ImportContext& ctx) {
  const auto* o = ctx.op().builtin_options_as_DepthwiseConv2DOptions();
  if (o == nullptr) ctx.fail("has no DepthwiseConv2DOptions");
  const int32_t filter = ctx.input(1);
  const std::vector<int32_t> fd = ctx.dims(filter);
  const int in = conv_input(ctx).tensor;
  const int out = ctx.activation(ctx.output());
  const int32_t cin = ctx.qtensor(in).shape.c;
  const int32_t cout = ctx.qtensor(out).shape.c;
  // [1][kh][kw][Cout] with Cout = Cin * depth multiplier (the options' own
  // depth_multiplier is redundant, as the schema says).
  if (fd.size() != 4 || fd[0] != 1 || fd[3] != cout || fd[1] < 1 || fd[2] < 1 || cout % cin != 0) {
    ctx.fail("filter " + ctx.tensor_label(filter) + " has shape " +
             shape_string(ctx.model().tensor(filter).shape()) + " for " + std::to_string(cin) +
             " input and " + std::to_string(cout) + " output channels");
  }
  const std::vector<int8_t> hwo = ctx.int8_constant(filter);
  const int32_t taps = fd[1] * fd[2];
  std::vector<int8_t> ohw(hwo.size());
  for (int32_t tap = 0; tap < taps; ++tap) {
    for (int32_t c = 0; c < cout; ++c) {
      ohw[static_cast<size_t>(c * taps + tap)] = hwo[static_cast<size_t>(tap * cout + c)];
    }
  }
  const Window win{o->padding(),           o->stride_h(),          o->stride_w(),
                   o->dilation_h_factor(), o->dilation_w_factor(), o->fused_activation_function()};
  add_conv_layer(ctx, win, fd[1], fd[2], cin, std::move(ohw), filter);
}

}  // namespace mcusplit::tflite
