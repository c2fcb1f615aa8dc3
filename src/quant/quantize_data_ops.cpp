// Layers without weights: Add, pools, global average pool, Concat, Reshape.
#include <fmt/format.h>

#include "quant/quantizer_context.h"

namespace mcusplit::quant::detail {
namespace {

int32_t to_i32(int64_t v) {
  return static_cast<int32_t>(v);
}

// True when NCHW and NHWC orders of the tensor coincide (one channel or one
// pixel), so a reshape of it keeps ONNX's element order in int8.
bool layout_neutral(const core::TensorShape3& s) {
  return s.c == 1 || (s.h == 1 && s.w == 1);
}

}  // namespace

void quantize_add(QuantizerContext& ctx, const model::Node& node) {
  if (node.inputs.size() != 2) ctx.fail(node, "int8 Add needs two inputs");
  for (size_t i = 0; i < 2; ++i) {
    if (node.inputs[i] >= 0 && ctx.tensor(node.inputs[i]).is_constant) {
      ctx.fail(node, fmt::format("int8 Add needs two activations; input '{}' is a constant",
                                 ctx.tensor(node.inputs[i]).name));
    }
  }
  const int a = ctx.activation_input(node, 0);
  const int b = ctx.activation_input(node, 1);
  const model::Dims& da = ctx.tensor(node.inputs[0]).shape;
  const model::Dims& db = ctx.tensor(node.inputs[1]).shape;
  if (da != db || da != ctx.tensor(node.outputs.at(0)).shape) {
    ctx.fail(node, fmt::format("int8 Add needs equal shapes (no broadcasting), got {} and {}",
                               model::dims_to_string(da), model::dims_to_string(db)));
  }
  const core::QuantParams qa = ctx.qtensor(a).quant;
  const core::QuantParams qb = ctx.qtensor(b).quant;
  const int out = ctx.add_output(node);
  const QTensor& out_t = ctx.qtensor(out);
  QLayer& layer = ctx.add_layer(node, OpType::Add, {a, b}, out);
  layer.add = kernels::make_int8_add_params(out_t.shape, qa, qb, out_t.quant,
                                            activation_clamp(node.activation, out_t.quant));
}

void quantize_pool(QuantizerContext& ctx, const model::Node& node) {
  const int in = ctx.activation_input(node, 0);
  if (ctx.tensor(node.inputs[0]).shape.size() != 4) ctx.fail(node, "int8 pools need [1,C,H,W]");
  const model::Window2d& win = node.pool.window;
  const bool any_pad = win.pads[0] || win.pads[1] || win.pads[2] || win.pads[3];
  const bool average = node.op == model::OpType::AveragePool;
  if (average && node.pool.count_include_pad && any_pad) {
    ctx.fail(node, "int8 AveragePool does not support count_include_pad=1 with padding");
  }
  // Pools compare and average raw int8 values: output parameters = input's.
  const int out = ctx.add_output(node, ctx.qtensor(in).quant);
  QLayer& layer = ctx.add_layer(node, average ? OpType::AveragePool : OpType::MaxPool, {in}, out);
  kernels::Int8PoolParams& p = layer.pool;
  p.input = ctx.qtensor(in).shape;
  p.output = ctx.qtensor(out).shape;
  p.kernel_h = to_i32(win.kernel[0]);
  p.kernel_w = to_i32(win.kernel[1]);
  p.stride_h = to_i32(win.strides[0]);
  p.stride_w = to_i32(win.strides[1]);
  p.pad_top = to_i32(win.pads[0]);
  p.pad_left = to_i32(win.pads[1]);
}

void quantize_global_average_pool(QuantizerContext& ctx, const model::Node& node) {
  const int in = ctx.activation_input(node, 0);
  if (ctx.tensor(node.inputs[0]).shape.size() != 4) {
    ctx.fail(node, "int8 global average pooling needs a [1,C,H,W] input");
  }
  if (node.op == model::OpType::ReduceMean && node.reduce.axes != std::vector<int64_t>{2, 3} &&
      node.reduce.axes != std::vector<int64_t>{3, 2}) {
    ctx.fail(node, "int8 supports ReduceMean over H and W (axes 2, 3) only");
  }
  const core::QuantParams in_q = ctx.qtensor(in).quant;
  const int out = ctx.add_output(node);
  const core::TensorShape3 in_shape = ctx.qtensor(in).shape;
  if (ctx.qtensor(out).shape != core::TensorShape3{in_shape.c, 1, 1}) {
    ctx.fail(node, "output is not one value per channel");
  }
  QLayer& layer = ctx.add_layer(node, OpType::GlobalAveragePool, {in}, out);
  layer.global_pool =
      kernels::make_int8_global_average_pool_params(in_shape, in_q, ctx.qtensor(out).quant);
}

void quantize_concat(QuantizerContext& ctx, const model::Node& node) {
  const size_t rank = ctx.tensor(node.outputs.at(0)).shape.size();
  if (node.axis.axis != 1 || (rank != 4 && rank != 2)) {
    ctx.fail(node, "int8 Concat joins channels (axis 1) of [1,C,H,W] or [1,N] tensors only");
  }
  std::vector<int> inputs;
  for (size_t i = 0; i < node.inputs.size(); ++i) inputs.push_back(ctx.activation_input(node, i));
  const int out = ctx.add_output(node);
  const QTensor out_t = ctx.qtensor(out);
  QLayer& layer = ctx.add_layer(node, OpType::Concat, inputs, out);
  int32_t offset = 0;
  for (int in : inputs) {
    const QTensor& in_t = ctx.qtensor(in);
    if (in_t.shape.h != out_t.shape.h || in_t.shape.w != out_t.shape.w) {
      ctx.fail(node, fmt::format("input '{}' differs in height or width", in_t.name));
    }
    kernels::Int8ConcatParams p;
    p.input = in_t.shape;
    p.output = out_t.shape;
    p.offset_c = offset;
    kernels::set_int8_concat_quantization(p, in_t.quant, out_t.quant);
    layer.concat.push_back(p);
    offset += in_t.shape.c;
  }
  if (offset != out_t.shape.c) ctx.fail(node, "input channels do not add up to the output's");
}

void quantize_reshape(QuantizerContext& ctx, const model::Node& node) {
  const int in = ctx.activation_input(node, 0);
  const core::TensorShape3 in_shape = ctx.qtensor(in).shape;
  // A reshape moves no value: the output shares the input's parameters.
  const int out = ctx.add_output(node, ctx.qtensor(in).quant);
  const core::TensorShape3 out_shape = ctx.qtensor(out).shape;
  if (out_shape.volume() != in_shape.volume()) ctx.fail(node, "changes the element count");
  const bool flatten_to_vector = out_shape.h == 1 && out_shape.w == 1;
  if (!layout_neutral(in_shape)) {
    if (!flatten_to_vector) {
      ctx.fail(node,
               "int8 supports reshaping a [1,C,H,W] tensor with C > 1 and H*W > 1 only "
               "into [1, C*H*W] feeding Gemm/MatMul");
    }
    ctx.mark_hwc_flatten(out, in_shape);  // only a fully connected layer may read it
  } else if (!layout_neutral(out_shape)) {
    ctx.fail(node,
             "int8 cannot reshape into a [1,C,H,W] tensor with C > 1 and H*W > 1 (the "
             "NHWC byte order would differ from ONNX's)");
  }
  ctx.add_layer(node, OpType::Reshape, {in}, out).reshape =
      kernels::ReshapeParams{in_shape, out_shape};
}

}  // namespace mcusplit::quant::detail
