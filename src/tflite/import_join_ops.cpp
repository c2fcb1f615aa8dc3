// The operators that join tensors: ADD (TFLite's int8 add: both inputs
// rescaled to twice the larger input scale with 2^20 headroom, summed,
// rescaled to the output; multipliers as TFLM's add Prepare derives them) and
// CONCATENATION along channels (TFLite's int8 concatenation copies bytes, so
// every input must share the output's quantization).
#include <algorithm>

#include "kernels/int8_add.h"
#include "tflite/import_ops.h"

namespace mcusplit::tflite {

void import_add(ImportContext& ctx) {
  const auto* o = ctx.op().builtin_options_as_AddOptions();
  const fb::ActivationFunctionType act =
      o == nullptr ? fb::ActivationFunctionType::NONE : o->fused_activation_function();
  const int a = ctx.activation(ctx.input(0));
  const int b = ctx.activation(ctx.input(1));
  const int out = ctx.activation(ctx.output());
  const quant::QTensor& qa = ctx.qtensor(a);
  const quant::QTensor& qb = ctx.qtensor(b);
  const quant::QTensor& qout = ctx.qtensor(out);
  if (!(qa.shape == qout.shape) || !(qb.shape == qout.shape)) {
    ctx.fail("inputs " + ctx.tensor_label(ctx.input(0)) + " and " + ctx.tensor_label(ctx.input(1)) +
             " do not both have the output's shape; broadcasting is not supported");
  }
  quant::QLayer l;
  l.name = qout.name;
  l.op = quant::OpType::Add;
  l.inputs = {a, b};
  l.output = out;
  l.add = kernels::make_int8_add_params(qout.shape, qa.quant, qb.quant, qout.quant,
                                        fused_activation(ctx, act, qout.quant));
  // The kernel rescales with right shifts only, as TFLM's int8 add does
  // (MultiplyByQuantizedMultiplierSmallerThanOneExp).
  if (l.add.output_shift > 0) {
    ctx.fail("output scale " + std::to_string(qout.quant.scale) +
             " is too small for TFLite's int8 add (twice the larger input scale / (2^20 * output "
             "scale) must be below 1)");
  }
  ctx.add_layer(std::move(l));
}

void import_concatenation(ImportContext& ctx) {
  const auto* o = ctx.op().builtin_options_as_ConcatenationOptions();
  if (o == nullptr) ctx.fail("has no ConcatenationOptions");
  if (o->fused_activation_function() != fb::ActivationFunctionType::NONE) {
    ctx.fail("has a fused activation; TFLite's int8 concatenation has none");
  }
  const int out = ctx.activation(ctx.output());
  const size_t rank = ctx.dims(ctx.output()).size();
  // The channel axis is the last: 3 of [1, H, W, C], 1 of [1, N].
  const int32_t axis = o->axis() < 0 ? o->axis() + static_cast<int32_t>(rank) : o->axis();
  if ((rank != 4 && rank != 2) || axis != static_cast<int32_t>(rank) - 1) {
    ctx.fail("joins axis " + std::to_string(o->axis()) + " of a rank-" + std::to_string(rank) +
             " tensor; only the channel axis (the last: 3 of [1, H, W, C], 1 of [1, N]) is "
             "supported");
  }
  quant::QLayer l;
  l.name = ctx.qtensor(out).name;
  l.op = quant::OpType::Concat;
  l.output = out;
  int32_t offset = 0;
  for (int k = 0; k < ctx.input_count(); ++k) {
    const int in = ctx.activation(ctx.input(k));
    const quant::QTensor& qin = ctx.qtensor(in);
    const quant::QTensor& qout = ctx.qtensor(out);
    if (qin.shape.h != qout.shape.h || qin.shape.w != qout.shape.w) {
      ctx.fail("input " + ctx.tensor_label(ctx.input(k)) +
               " differs from the output in height "
               "or width");
    }
    if (!(qin.quant == qout.quant)) {
      ctx.fail("input " + ctx.tensor_label(ctx.input(k)) +
               " is quantized differently from the "
               "output; TFLite's int8 concatenation copies bytes and needs equal scales and zero "
               "points");
    }
    kernels::Int8ConcatParams p;
    p.input = qin.shape;
    p.output = qout.shape;
    p.offset_c = offset;
    kernels::set_int8_concat_quantization(p, qin.quant, qout.quant);
    l.concat.push_back(p);
    l.inputs.push_back(in);
    offset += qin.shape.c;
  }
  if (offset != ctx.qtensor(out).shape.c) {
    ctx.fail("input channels add up to " + std::to_string(offset) + ", the output has " +
             std::to_string(ctx.qtensor(out).shape.c));
  }
  ctx.add_layer(std::move(l));
}

}  // namespace mcusplit::tflite
