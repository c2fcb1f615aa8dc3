// ONNX nodes to IR nodes for everything but Conv and the pools.
#include "model/onnx_op_import.h"

#include <algorithm>

#include "model/onnx_attributes.h"

namespace mcusplit::model {
namespace {

// Resolves an axis in [-rank, rank) (or [-rank, rank] when `inclusive`).
int64_t resolve_axis(const OnnxNodeContext& ctx, int64_t axis, int64_t rank, bool inclusive) {
  const int64_t hi = inclusive ? rank : rank - 1;
  if (axis < -rank || axis > hi) {
    ctx.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

int64_t input_rank(const OnnxNodeContext& ctx, size_t i) {
  return static_cast<int64_t>(ctx.input_tensor(i).shape.size());
}

void reject_used_outputs_after_first(const OnnxNodeContext& ctx, const std::string& what) {
  for (size_t i = 1; i < static_cast<size_t>(ctx.proto().output_size()); ++i) {
    if (ctx.output_is_used(i))
      ctx.fail(what + " (output '" + ctx.proto().output(static_cast<int>(i)) +
               "') is not supported");
  }
}

Node import_batch_norm(const OnnxNodeContext& ctx) {
  if (ctx.opset() < 9 && int_attribute(ctx, "spatial", 1) != 1) {
    ctx.fail("spatial=0 is not supported");
  }
  if (int_attribute(ctx, "training_mode", 0) != 0) ctx.fail("training_mode=1 is not supported");
  reject_used_outputs_after_first(ctx, "training statistics");
  Node node;
  node.batch_norm.epsilon = float_attribute(ctx, "epsilon", 1e-5f);
  for (size_t i = 0; i < 5; ++i) node.inputs.push_back(ctx.required_input(i));
  return node;
}

// A scalar bound of Clip given as an input (opset 11+).
float clip_bound(const OnnxNodeContext& ctx, size_t i, const std::string& role, float fallback) {
  if (ctx.input(i) < 0) return fallback;
  const Tensor& t = ctx.required_constant_input(i, "Clip " + role);
  if (t.data.size() != 1) ctx.fail("Clip " + role + " must be a scalar");
  return t.data[0];
}

Node import_clip(const OnnxNodeContext& ctx) {
  Node node;
  if (ctx.opset() < 11) {
    node.clip.min = float_attribute(ctx, "min", node.clip.min);
    node.clip.max = float_attribute(ctx, "max", node.clip.max);
  } else {
    node.clip.min = clip_bound(ctx, 1, "min", node.clip.min);
    node.clip.max = clip_bound(ctx, 2, "max", node.clip.max);
  }
  node.inputs = {ctx.required_input(0)};
  return node;
}

Node import_add(const OnnxNodeContext& ctx) {
  // Before opset 7, broadcasting was opt-in and could align B at any axis;
  // only the numpy-compatible (trailing) alignment is accepted.
  if (ctx.opset() < 7 && int_attribute(ctx, "broadcast", 0) != 0 && has_attribute(ctx, "axis")) {
    const int64_t rank_a = input_rank(ctx, 0);
    const int64_t axis = resolve_axis(ctx, int_attribute(ctx, "axis", 0), rank_a, false);
    if (axis != rank_a - input_rank(ctx, 1)) {
      ctx.fail("legacy broadcast with axis=" + std::to_string(axis) +
               " is not supported (only trailing alignment)");
    }
  }
  Node node;
  node.inputs = {ctx.required_input(0), ctx.required_input(1)};
  return node;
}

Node import_reduce_mean(const OnnxNodeContext& ctx) {
  const int64_t rank = input_rank(ctx, 0);
  std::vector<int64_t> axes = ints_attribute(ctx, "axes");
  if (ctx.input(1) >= 0) axes = tensor_to_int64s(ctx.required_constant_input(1, "axes"));
  Node node;
  node.inputs = {ctx.required_input(0)};
  if (axes.empty() && int_attribute(ctx, "noop_with_empty_axes", 0) != 0) {
    node.op = OpType::Identity;
    return node;
  }
  if (axes.empty()) {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  }
  for (int64_t& a : axes) a = resolve_axis(ctx, a, rank, false);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) ctx.fail("axes repeat");
  node.op = OpType::ReduceMean;
  node.reduce.axes = std::move(axes);
  node.reduce.keepdims = int_attribute(ctx, "keepdims", 1) != 0;
  return node;
}

Node import_gemm(const OnnxNodeContext& ctx) {
  Node node;
  node.gemm.alpha = float_attribute(ctx, "alpha", 1.0f);
  node.gemm.beta = float_attribute(ctx, "beta", 1.0f);
  node.gemm.trans_a = int_attribute(ctx, "transA", 0) != 0;
  node.gemm.trans_b = int_attribute(ctx, "transB", 0) != 0;
  node.inputs = {ctx.required_input(0), ctx.required_input(1)};
  if (ctx.input(2) >= 0) node.inputs.push_back(ctx.input(2));
  return node;
}

Node import_flatten(const OnnxNodeContext& ctx) {
  Node node;
  node.axis.axis = resolve_axis(ctx, int_attribute(ctx, "axis", 1), input_rank(ctx, 0), true);
  node.inputs = {ctx.required_input(0)};
  return node;
}

Node import_reshape(const OnnxNodeContext& ctx) {
  const Tensor& shape = ctx.required_constant_input(1, "Reshape target shape");
  if (shape.shape.size() != 1) ctx.fail("target shape must be 1-D");
  // allowzero=1 makes a 0 an empty dimension, which no model we run needs;
  // without zeros it means the same as allowzero=0.
  if (int_attribute(ctx, "allowzero", 0) != 0) {
    for (int64_t d : tensor_to_int64s(shape)) {
      if (d == 0)
        ctx.fail("allowzero=1 with a 0 in the target shape (an empty tensor) is not supported");
    }
  }
  Node node;
  node.inputs = {ctx.required_input(0), ctx.required_input(1)};
  return node;
}

Node import_concat(const OnnxNodeContext& ctx) {
  Node node;
  for (size_t i = 0; i < ctx.input_count(); ++i) node.inputs.push_back(ctx.required_input(i));
  if (node.inputs.empty()) ctx.fail("has no inputs");
  if (ctx.opset() >= 4 && !has_attribute(ctx, "axis")) ctx.fail("attribute 'axis' is required");
  node.axis.axis = resolve_axis(ctx, int_attribute(ctx, "axis", 1), input_rank(ctx, 0), false);
  return node;
}

Node import_dropout(const OnnxNodeContext& ctx) {
  if (ctx.opset() >= 12 && ctx.input(2) >= 0) {
    const Tensor& mode = ctx.required_constant_input(2, "Dropout training_mode");
    if (!mode.data.empty() && mode.data[0] != 0.0f) ctx.fail("training_mode=true is not supported");
  }
  // The mask output (all true at inference) becomes a constant at import.
  Node node;
  node.inputs = {ctx.required_input(0)};
  return node;
}

Node import_unary(const OnnxNodeContext& ctx) {
  Node node;
  node.inputs = {ctx.required_input(0)};
  return node;
}

}  // namespace

std::optional<OpType> ir_op_for(const std::string& op_type) {
  static const OpType kOps[] = {OpType::Conv,       OpType::BatchNormalization,
                                OpType::Relu,       OpType::Clip,
                                OpType::Add,        OpType::GlobalAveragePool,
                                OpType::ReduceMean, OpType::AveragePool,
                                OpType::MaxPool,    OpType::Gemm,
                                OpType::MatMul,     OpType::Flatten,
                                OpType::Reshape,    OpType::Concat,
                                OpType::Identity,   OpType::Dropout};
  for (OpType op : kOps) {
    if (op_type_name(op) == op_type) return op;
  }
  return std::nullopt;
}

Node import_ir_node(const OnnxNodeContext& ctx, OpType op) {
  Node node;
  switch (op) {
    case OpType::Conv:
      node = import_conv(ctx);
      break;
    case OpType::AveragePool:
    case OpType::MaxPool:
      node = import_pool(ctx, op);
      break;
    case OpType::BatchNormalization:
      node = import_batch_norm(ctx);
      break;
    case OpType::Clip:
      node = import_clip(ctx);
      break;
    case OpType::Add:
      node = import_add(ctx);
      break;
    case OpType::ReduceMean:
      node = import_reduce_mean(ctx);
      break;
    case OpType::Gemm:
      node = import_gemm(ctx);
      break;
    case OpType::MatMul:
      node.inputs = {ctx.required_input(0), ctx.required_input(1)};
      break;
    case OpType::Flatten:
      node = import_flatten(ctx);
      break;
    case OpType::Reshape:
      node = import_reshape(ctx);
      break;
    case OpType::Concat:
      node = import_concat(ctx);
      break;
    case OpType::Dropout:
      node = import_dropout(ctx);
      break;
    case OpType::Relu:
    case OpType::GlobalAveragePool:
    case OpType::Identity:
      node = import_unary(ctx);
      break;
  }
  // import_reduce_mean sets op itself: noop_with_empty_axes makes an Identity.
  if (op != OpType::ReduceMean) node.op = op;
  node.name = ctx.display_name();
  return node;
}

}  // namespace mcusplit::model
