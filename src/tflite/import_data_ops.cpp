// The operators without weights: pools, MEAN, reshapes and softmax. TFLite's int8
// pools and reshapes keep the input's quantization, so the importer requires
// it rather than rescale.
#include <algorithm>

#include "kernels/int8_global_average_pool.h"
#include "kernels/int8_softmax.h"
#include "tflite/import_ops.h"

namespace mcusplit::tflite {

namespace {

void require_same_quant(ImportContext& ctx, int in, int out) {
  const core::QuantParams& a = ctx.qtensor(in).quant;
  const core::QuantParams& b = ctx.qtensor(out).quant;
  if (!(a == b)) {
    ctx.fail("input and output quantization differ (scale " + std::to_string(a.scale) +
             ", zero point " + std::to_string(a.zero_point) + " vs scale " +
             std::to_string(b.scale) + ", zero point " + std::to_string(b.zero_point) +
             "); the operator does not rescale");
  }
}

void import_pool(ImportContext& ctx, quant::OpType op) {
  const auto* o = ctx.op().builtin_options_as_Pool2DOptions();
  if (o == nullptr) ctx.fail("has no Pool2DOptions");
  const int in = ctx.activation(ctx.input(0));
  const int out = ctx.activation(ctx.output());
  require_same_quant(ctx, in, out);
  const quant::QTensor& qin = ctx.qtensor(in);
  const quant::QTensor& qout = ctx.qtensor(out);
  if (o->filter_height() < 1 || o->filter_width() < 1 || o->stride_h() < 1 || o->stride_w() < 1) {
    ctx.fail("filter sizes and strides must be at least 1");
  }
  const AxisWindow ys =
      tflite_axis_window(o->padding(), qin.shape.h, o->filter_height(), o->stride_h(), 1);
  const AxisWindow xs =
      tflite_axis_window(o->padding(), qin.shape.w, o->filter_width(), o->stride_w(), 1);
  if (!(qout.shape == core::TensorShape3{qin.shape.c, ys.out, xs.out})) {
    ctx.fail("output " + ctx.tensor_label(ctx.output()) +
             " does not have the shape the window gives (" + std::to_string(qin.shape.c) +
             " channels, " + std::to_string(ys.out) + "x" + std::to_string(xs.out) + ")");
  }
  quant::QLayer l;
  l.name = qout.name;
  l.op = op;
  l.inputs = {in};
  l.output = out;
  kernels::Int8PoolParams& p = l.pool;
  p.input = qin.shape;
  p.output = qout.shape;
  p.kernel_h = o->filter_height();
  p.kernel_w = o->filter_width();
  p.stride_h = o->stride_h();
  p.stride_w = o->stride_w();
  p.pad_top = ys.pad_before;
  p.pad_left = xs.pad_before;
  p.activation = fused_activation(ctx, o->fused_activation_function(), qout.quant);
  ctx.add_layer(std::move(l));
}

}  // namespace

void import_average_pool_2d(ImportContext& ctx) {
  import_pool(ctx, quant::OpType::AveragePool);
}

void import_max_pool_2d(ImportContext& ctx) {
  import_pool(ctx, quant::OpType::MaxPool);
}

void import_reshape(ImportContext& ctx) {
  // The output tensor's shape is the result (RESHAPE's optional shape input
  // and SQUEEZE's dims only say how it was derived).
  const int in = ctx.activation(ctx.input(0));
  const int out = ctx.activation(ctx.output());
  require_same_quant(ctx, in, out);
  const quant::QTensor& qin = ctx.qtensor(in);
  const quant::QTensor& qout = ctx.qtensor(out);
  if (qin.shape.volume() != qout.shape.volume()) {
    ctx.fail("input has " + std::to_string(qin.shape.volume()) + " elements but output " +
             std::to_string(qout.shape.volume()));
  }
  quant::QLayer l;
  l.name = qout.name;
  l.op = quant::OpType::Reshape;
  l.inputs = {in};
  l.output = out;
  l.reshape.input = qin.shape;
  l.reshape.output = qout.shape;
  ctx.add_layer(std::move(l));
}

void import_softmax(ImportContext& ctx) {
  const auto* o = ctx.op().builtin_options_as_SoftmaxOptions();
  if (o == nullptr) ctx.fail("has no SoftmaxOptions");
  const int in = ctx.activation(ctx.input(0));
  const int out = ctx.activation(ctx.output());
  const quant::QTensor& qin = ctx.qtensor(in);
  const quant::QTensor& qout = ctx.qtensor(out);
  if (!(qin.shape == qout.shape)) ctx.fail("input and output shapes differ");
  // TFLite's int8 softmax writes probabilities in steps of 1/256 from -128.
  if (qout.quant.zero_point != -128 || qout.quant.scale != 1.0f / 256.0f) {
    ctx.fail("output " + ctx.tensor_label(ctx.output()) + " has scale " +
             std::to_string(qout.quant.scale) + " and zero point " +
             std::to_string(qout.quant.zero_point) + "; an int8 softmax needs 1/256 and -128");
  }
  const kernels::Int8SoftmaxSetup setup = kernels::make_int8_softmax_params(
      qin.shape, static_cast<double>(o->beta()), static_cast<double>(qin.quant.scale));
  if (!setup.ok) ctx.fail("beta * input scale is too small for TFLite's int8 softmax");
  quant::QLayer l;
  l.name = qout.name;
  l.op = quant::OpType::Softmax;
  l.inputs = {in};
  l.output = out;
  l.softmax = setup.params;
  ctx.add_layer(std::move(l));
}

void import_mean(ImportContext& ctx) {
  const auto* o = ctx.op().builtin_options_as_ReducerOptions();
  const int in = ctx.activation(ctx.input(0));
  const int out = ctx.activation(ctx.output());
  const quant::QTensor& qin = ctx.qtensor(in);
  const quant::QTensor& qout = ctx.qtensor(out);
  std::vector<int32_t> axes = ctx.int32_constant(ctx.input(1));
  for (int32_t& a : axes) {
    if (a < 0) a += 4;
  }
  std::sort(axes.begin(), axes.end());
  if (ctx.dims(ctx.input(0)).size() != 4 || axes != std::vector<int32_t>{1, 2}) {
    ctx.fail("reduces other axes than height and width (1 and 2 of a [1, H, W, C] input)");
  }
  // TFLM runs its integer Mean (reference_integer_ops::Mean: the global
  // average pool's arithmetic) only with keep_dims; without it, it divides a
  // raw sum in float or truncates, another rounding.
  if (o == nullptr || !o->keep_dims()) {
    ctx.fail(
        "has keep_dims false; only MEAN with keep_dims true (TFLM's integer mean over "
        "height and width) is supported");
  }
  if (!(qout.shape == core::TensorShape3{qin.shape.c, 1, 1})) {
    ctx.fail("output " + ctx.tensor_label(ctx.output()) + " is not [1, 1, 1, " +
             std::to_string(qin.shape.c) + "]");
  }
  quant::QLayer l;
  l.name = qout.name;
  l.op = quant::OpType::GlobalAveragePool;
  l.inputs = {in};
  l.output = out;
  l.global_pool = kernels::make_int8_global_average_pool_params(qin.shape, qin.quant, qout.quant);
  ctx.add_layer(std::move(l));
}

}  // namespace mcusplit::tflite
