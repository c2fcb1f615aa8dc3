// FULLY_CONNECTED into the FullyConnected layer: the filter [N][K] is already
// the kernel's row order, the input is read flat in NHWC order as TFLite
// flattens it; one multiplier per neuron (per-channel weights) or one for all
// (per-tensor weights, as converters usually write for this operator), from
// input_scale * weight_scale / output_scale as TFLM's FullyConnected Prepare.
#include "tflite/import_ops.h"

namespace mcusplit::tflite {

void import_fully_connected(ImportContext& ctx) {
  const auto* o = ctx.op().builtin_options_as_FullyConnectedOptions();
  if (o == nullptr) ctx.fail("has no FullyConnectedOptions");
  if (o->weights_format() != fb::FullyConnectedOptionsWeightsFormat::DEFAULT) {
    ctx.fail(
        "has shuffled weights (SHUFFLED4x16INT8); only the DEFAULT weights format is supported");
  }
  const int in = ctx.activation(ctx.input(0));
  const int out = ctx.activation(ctx.output());
  const quant::QTensor& qin = ctx.qtensor(in);
  const quant::QTensor& qout = ctx.qtensor(out);
  const int32_t filter = ctx.input(1);
  const std::vector<int32_t> fd = ctx.dims(filter);
  const int32_t k = static_cast<int32_t>(qin.shape.volume());
  const int32_t n = qout.shape.c;
  // Batch 1: the output is one row of N neurons whatever keep_num_dims says.
  if (!(qout.shape == core::TensorShape3{n, 1, 1})) {
    ctx.fail("output " + ctx.tensor_label(ctx.output()) + " is not a vector [1, N]");
  }
  if (fd.size() != 2 || fd[0] != n || fd[1] != k) {
    ctx.fail("filter " + ctx.tensor_label(filter) + " has shape " +
             shape_string(ctx.model().tensor(filter).shape()) + " for " + std::to_string(k) +
             " inputs and " + std::to_string(n) + " outputs; expected [" + std::to_string(n) +
             ", " + std::to_string(k) + "]");
  }
  quant::QLayer l;
  l.name = qout.name;
  l.op = quant::OpType::FullyConnected;
  l.inputs = {in};
  l.output = out;
  kernels::Int8FullyConnectedParams& p = l.fc;
  p.input_size = k;
  p.output_size = n;
  p.input_zero_point = qin.quant.zero_point;
  p.output_zero_point = qout.quant.zero_point;
  p.activation = fused_activation(ctx, o->fused_activation_function(), qout.quant);
  p.weights_n0 = 0;
  p.weights_n1 = n;
  l.weights = ctx.int8_constant(filter);
  const auto* q = ctx.model().tensor(filter).quantization();
  p.per_tensor_requant = q != nullptr && q->scale() != nullptr && q->scale()->size() == 1;
  ImportContext::add_requantization(l, ctx.weight_scales(filter, n), p.per_tensor_requant ? 1 : n,
                                    qin.quant.scale, qout.quant.scale);
  l.bias = ctx.optional_bias(n, "outputs");
  ctx.add_layer(std::move(l));
}

}  // namespace mcusplit::tflite
