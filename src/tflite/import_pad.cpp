// PAD and PADV2. Converters from PyTorch write a PAD before every strided
// convolution; padding with the input's zero point adds nothing to a
// convolution's sums, so such a PAD read only by one CONV_2D or
// DEPTHWISE_CONV_2D folds into that convolution's own padding (exactly; the
// kernel skips padding positions). Any other PAD (another value, another
// reader such as a pool, whose padding TFLite does not count) runs as its own
// Pad layer, as TFLM's pad does.
#include "kernels/int8_pad.h"
#include "tflite/import_ops.h"
#include "tflite/tflite_operators.h"

namespace mcusplit::tflite {

namespace {

struct Paddings {
  int32_t before[4] = {0, 0, 0, 0};
  int32_t after[4] = {0, 0, 0, 0};
};

Paddings read_paddings(ImportContext& ctx, int32_t tensor) {
  const std::vector<int32_t> d = ctx.dims(tensor);
  if (d != std::vector<int32_t>{4, 2}) {
    ctx.fail("paddings " + ctx.tensor_label(tensor) + " has shape " +
             shape_string(ctx.model().tensor(tensor).shape()) +
             "; expected [4, 2] for a [1, H, W, C] input");
  }
  const std::vector<int32_t> v = ctx.int32_constant(tensor);
  Paddings p;
  for (size_t k = 0; k < 4; ++k) {
    p.before[k] = v[2 * k];
    p.after[k] = v[2 * k + 1];
    if (p.before[k] < 0 || p.after[k] < 0) ctx.fail("has negative paddings");
  }
  if (p.before[0] != 0 || p.after[0] != 0) ctx.fail("pads the batch dimension");
  return p;
}

// PAD pads with the output's zero point (TFLM's pad for int8), PADV2 with its
// constant_values input.
int32_t pad_value(ImportContext& ctx, int32_t out_zero_point) {
  const int32_t values = ctx.input(2, /*optional=*/true);
  if (values < 0) return out_zero_point;
  const std::vector<int8_t> v = ctx.int8_constant(values);
  if (v.size() != 1) ctx.fail("constant_values " + ctx.tensor_label(values) + " is not one value");
  return v[0];
}

bool foldable_into_reader(ImportContext& ctx, int32_t padded) {
  const std::vector<int32_t> readers = ctx.readers(padded);
  const auto* graph_outputs = ctx.model().graph().outputs();
  for (uint32_t i = 0; graph_outputs != nullptr && i < graph_outputs->size(); ++i) {
    if (graph_outputs->Get(i) == padded) return false;
  }
  if (readers.size() != 1) return false;
  const fb::Operator& reader =
      *ctx.model().graph().operators()->Get(static_cast<flatbuffers::uoffset_t>(readers[0]));
  const int32_t code = ctx.model().builtin_code(reader);
  return (code == kConv2D || code == kDepthwiseConv2D) && reader.inputs() != nullptr &&
         reader.inputs()->size() > 0 && reader.inputs()->Get(0) == padded;
}

}  // namespace

void import_pad(ImportContext& ctx) {
  const int32_t x = ctx.input(0);
  const int32_t y = ctx.output();
  const int in = ctx.activation(x);
  const quant::QTensor& qin = ctx.qtensor(in);
  if (ctx.dims(x).size() != 4) ctx.fail("input is not [1, H, W, C]");
  // The output is read without becoming a QGraph tensor yet: a folded PAD's
  // output is never one.
  if (ctx.model().tensor(y).type() != fb::TensorType::INT8) ctx.fail("output is not INT8");
  const core::TensorShape3 out_shape = ctx.activation_shape(y);
  const core::QuantParams out_quant = ctx.activation_quant(y);
  if (!(qin.quant == out_quant)) {
    ctx.fail("input and output quantization differ; TFLite's PAD copies bytes");
  }
  const Paddings p = read_paddings(ctx, ctx.input(1));
  const core::TensorShape3 padded{qin.shape.c + p.before[3] + p.after[3],
                                  qin.shape.h + p.before[1] + p.after[1],
                                  qin.shape.w + p.before[2] + p.after[2]};
  if (!(out_shape == padded)) {
    ctx.fail("output " + ctx.tensor_label(y) + " does not have the padded input's shape");
  }
  const int32_t value = pad_value(ctx, out_quant.zero_point);
  if (value == qin.quant.zero_point && p.before[3] == 0 && p.after[3] == 0 &&
      foldable_into_reader(ctx, y)) {
    ctx.fold_pad(y, {x, p.before[1], p.before[2], padded.h, padded.w});
    return;
  }
  const int out = ctx.activation(y);
  quant::QLayer l;
  l.name = ctx.qtensor(out).name;
  l.op = quant::OpType::Pad;
  l.inputs = {in};
  l.output = out;
  l.pad.input = qin.shape;
  l.pad.output = padded;
  l.pad.pad_c = p.before[3];
  l.pad.pad_top = p.before[1];
  l.pad.pad_left = p.before[2];
  l.pad.value = value;
  ctx.add_layer(std::move(l));
}

}  // namespace mcusplit::tflite
