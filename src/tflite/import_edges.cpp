// The graph's edges. Converters wrap an int8 interior in QUANTIZE (float
// input) and DEQUANTIZE (float output), and PyTorch's converters put a
// TRANSPOSE from NCHW to NHWC after the input: these become the int8 graph's
// input and output quantization and its NHWC input (the CLI quantizes float
// inputs with that quantization and reorders NCHW inputs, as QUANTIZE and
// TRANSPOSE would). Anywhere else they are refused.
#include "tflite/import_ops.h"
#include "tflite/tflite_operators.h"

namespace mcusplit::tflite {

namespace {

const fb::Operator& op_at(const ImportContext& ctx, int32_t i) {
  return *ctx.model().graph().operators()->Get(static_cast<flatbuffers::uoffset_t>(i));
}

int32_t only_output(const fb::Operator& op) {
  return op.outputs() != nullptr && op.outputs()->size() == 1 ? op.outputs()->Get(0) : -1;
}

bool same_quantization(const ImportContext& ctx, int32_t a, int32_t b) {
  const auto* qa = ctx.model().tensor(a).quantization();
  const auto* qb = ctx.model().tensor(b).quantization();
  const auto scale = [](const fb::QuantizationParameters* q) {
    return q != nullptr && q->scale() != nullptr && q->scale()->size() == 1 ? q->scale()->Get(0)
                                                                            : 0.0f;
  };
  const auto zp = [](const fb::QuantizationParameters* q) {
    return q != nullptr && q->zero_point() != nullptr && q->zero_point()->size() == 1
               ? q->zero_point()->Get(0)
               : int64_t{0};
  };
  return scale(qa) == scale(qb) && zp(qa) == zp(qb);
}

// A TRANSPOSE of [1, C, H, W] into [1, H, W, C] (perm [0, 2, 3, 1]).
bool is_nchw_to_nhwc(const ImportContext& ctx, const fb::Operator& op) {
  if (op.inputs() == nullptr || op.inputs()->size() != 2) return false;
  const int32_t perm = op.inputs()->Get(1);
  const int32_t out = only_output(op);
  if (perm < 0 || out < 0 || !ctx.model().is_constant(perm) ||
      ctx.model().tensor(perm).type() != fb::TensorType::INT32) {
    return false;
  }
  if (ctx.int32_constant(perm) != std::vector<int32_t>{0, 2, 3, 1}) return false;
  const int32_t in = op.inputs()->Get(0);
  return ctx.model().tensor(in).type() == ctx.model().tensor(out).type() &&
         same_quantization(ctx, in, out);
}

}  // namespace

GraphEdges graph_edges(ImportContext& ctx, int32_t input, int32_t output) {
  const auto* ops = ctx.model().graph().operators();
  const int32_t count = ops == nullptr ? 0 : static_cast<int32_t>(ops->size());
  GraphEdges e;
  e.skipped.assign(static_cast<size_t>(count), false);
  e.input = input;
  bool quantized = false, transposed = false;
  for (;;) {
    const std::vector<int32_t> readers = ctx.readers(e.input);
    if (readers.size() != 1 || e.input == output) break;
    const fb::Operator& op = op_at(ctx, readers[0]);
    const int32_t code = ctx.model().builtin_code(op);
    const int32_t next = only_output(op);
    if (next < 0 || op.inputs()->Get(0) != e.input) break;
    if (code == kQuantize && !quantized &&
        ctx.model().tensor(e.input).type() == fb::TensorType::FLOAT32 &&
        ctx.model().tensor(next).type() == fb::TensorType::INT8) {
      quantized = true;
    } else if (code == kTranspose && !transposed && is_nchw_to_nhwc(ctx, op)) {
      transposed = true;
    } else {
      break;
    }
    e.skipped[static_cast<size_t>(readers[0])] = true;
    e.input = next;
  }
  e.output = output;
  for (int32_t i = count - 1; i >= 0; --i) {
    const fb::Operator& op = op_at(ctx, i);
    if (only_output(op) != output) continue;
    if (ctx.model().builtin_code(op) == kDequantize && op.inputs() != nullptr &&
        op.inputs()->size() == 1 && ctx.model().tensor(output).type() == fb::TensorType::FLOAT32 &&
        ctx.model().tensor(op.inputs()->Get(0)).type() == fb::TensorType::INT8) {
      e.skipped[static_cast<size_t>(i)] = true;
      e.output = op.inputs()->Get(0);
    }
    break;
  }
  return e;
}

void refuse_inner_edge_op(ImportContext& ctx) {
  ctx.fail(
      "is supported only at the graph's edges (QUANTIZE float to int8 and TRANSPOSE NCHW to NHWC "
      "from the graph input, DEQUANTIZE int8 to float into the graph output)");
}

}  // namespace mcusplit::tflite
