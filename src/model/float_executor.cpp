#include "model/float_executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "common/error.h"
#include "kernels/float_batch_norm.h"
#include "kernels/float_concat.h"
#include "kernels/float_conv.h"
#include "kernels/float_elementwise.h"
#include "kernels/float_gemm.h"
#include "kernels/float_matmul.h"
#include "kernels/float_pool.h"
#include "kernels/float_reduce.h"

namespace mcusplit::model {
namespace {

// Output shapes are computed here from the input values rather than read from
// the graph: evaluate_node also serves constant folding, which may run before
// shapes are inferred. run_graph cross-checks them against shape inference.

[[noreturn]] void fail(const Node& node, const std::string& message) {
  throw Error(fmt::format("node '{}' ({}): {}", node.name, op_type_name(node.op), message));
}

const FloatTensor& input_at(const Node& node, const std::vector<const FloatTensor*>& inputs,
                            size_t i) {
  if (i >= inputs.size() || inputs[i] == nullptr) fail(node, fmt::format("missing input {}", i));
  return *inputs[i];
}

const FloatTensor* optional_input(const std::vector<const FloatTensor*>& inputs, size_t i) {
  return i < inputs.size() ? inputs[i] : nullptr;
}

void expect_rank(const Node& node, const FloatTensor& t, size_t rank, const char* what) {
  if (t.shape.size() != rank) {
    fail(node, fmt::format("{} must have rank {}, got {}", what, rank, dims_to_string(t.shape)));
  }
}

int64_t product(const Dims& dims, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < dims.size(); ++i) n *= dims[i];
  return n;
}

void apply_activation(const FusedActivation& activation, FloatTensor& t) {
  if (activation.is_none()) return;
  kernels::clamp_f32(static_cast<int64_t>(t.data.size()), activation.min, activation.max,
                     t.data.data(), t.data.data());
}

FloatTensor eval_conv(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& x = input_at(node, inputs, 0);
  const FloatTensor& w = input_at(node, inputs, 1);
  const FloatTensor* bias = optional_input(inputs, 2);
  expect_rank(node, x, 4, "input");
  expect_rank(node, w, 4, "weights");
  const Window2d& win = node.conv.window;
  kernels::Conv2dParams p;
  p.batch = x.shape[0];
  p.in_channels = x.shape[1];
  p.in_h = x.shape[2];
  p.in_w = x.shape[3];
  p.out_channels = w.shape[0];
  p.kernel_h = w.shape[2];
  p.kernel_w = w.shape[3];
  p.stride_h = win.strides[0];
  p.stride_w = win.strides[1];
  p.pad_top = win.pads[0];
  p.pad_left = win.pads[1];
  p.groups = node.conv.group;
  if (p.groups <= 0 || p.in_channels % p.groups != 0 || p.out_channels % p.groups != 0 ||
      w.shape[1] * p.groups != p.in_channels) {
    fail(node, fmt::format("weights {} do not fit input {} with group {}", dims_to_string(w.shape),
                           dims_to_string(x.shape), p.groups));
  }
  if (bias && element_count(bias->shape) != p.out_channels) {
    fail(node, fmt::format("bias {} does not match {} output channels", dims_to_string(bias->shape),
                           p.out_channels));
  }
  p.out_h = kernels::conv_output_size(p.in_h, p.kernel_h, p.stride_h, win.pads[0], win.pads[2]);
  p.out_w = kernels::conv_output_size(p.in_w, p.kernel_w, p.stride_w, win.pads[1], win.pads[3]);
  if (!node.activation.is_none()) {
    p.act_min = node.activation.min;
    p.act_max = node.activation.max;
  }
  FloatTensor y({p.batch, p.out_channels, p.out_h, p.out_w});
  kernels::conv2d_nchw_f32(p, x.data.data(), w.data.data(), bias ? bias->data.data() : nullptr,
                           y.data.data());
  return y;
}

FloatTensor eval_batch_norm(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& x = input_at(node, inputs, 0);
  if (x.shape.size() < 2) fail(node, "input must have a channel axis");
  const int64_t channels = x.shape[1];
  const FloatTensor* params[4];
  for (size_t i = 0; i < 4; ++i) {
    params[i] = &input_at(node, inputs, i + 1);
    if (element_count(params[i]->shape) != channels) {
      fail(node, fmt::format("parameter {} has shape {}, expected {} channels", i + 1,
                             dims_to_string(params[i]->shape), channels));
    }
  }
  FloatTensor y(x.shape);
  kernels::batch_norm_f32(x.shape[0], channels, product(x.shape, 2, x.shape.size()), x.data.data(),
                          params[0]->data.data(), params[1]->data.data(), params[2]->data.data(),
                          params[3]->data.data(), node.batch_norm.epsilon, y.data.data());
  return y;
}

FloatTensor eval_clamp(const FloatTensor& x, float min, float max) {
  FloatTensor y(x.shape);
  kernels::clamp_f32(static_cast<int64_t>(x.data.size()), min, max, x.data.data(), y.data.data());
  return y;
}

FloatTensor eval_clip(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  float min = node.clip.min;
  float max = node.clip.max;
  // Opset 11+ passes the bounds as inputs; the importer normally moves
  // constant bounds into the attributes, but honour them if still present.
  if (const FloatTensor* lo = optional_input(inputs, 1); lo && !lo->data.empty()) min = lo->data[0];
  if (const FloatTensor* hi = optional_input(inputs, 2); hi && !hi->data.empty()) max = hi->data[0];
  return eval_clamp(input_at(node, inputs, 0), min, max);
}

FloatTensor eval_add(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& a = input_at(node, inputs, 0);
  const FloatTensor& b = input_at(node, inputs, 1);
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  if (rank > static_cast<size_t>(kernels::kMaxRank)) fail(node, "rank above 8");
  kernels::BroadcastShape shape;
  shape.rank = static_cast<int>(rank);
  Dims out_dims(rank);
  // Numpy broadcasting: align trailing dims; a dim of 1 repeats.
  int64_t a_stride = 1;
  int64_t b_stride = 1;
  for (size_t i = 0; i < rank; ++i) {
    const size_t d = rank - 1 - i;
    const int64_t da = i < a.shape.size() ? a.shape[a.shape.size() - 1 - i] : 1;
    const int64_t db = i < b.shape.size() ? b.shape[b.shape.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) {
      fail(node, fmt::format("cannot broadcast {} with {}", dims_to_string(a.shape),
                             dims_to_string(b.shape)));
    }
    out_dims[d] = da == 1 ? db : da;
    shape.dims[d] = out_dims[d];
    shape.a_strides[d] = da == 1 ? 0 : a_stride;
    shape.b_strides[d] = db == 1 ? 0 : b_stride;
    a_stride *= da;
    b_stride *= db;
  }
  FloatTensor y(out_dims);
  kernels::add_f32(shape, a.data.data(), b.data.data(), y.data.data());
  apply_activation(node.activation, y);
  return y;
}

FloatTensor eval_global_average_pool(const Node& node,
                                     const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& x = input_at(node, inputs, 0);
  if (x.shape.size() < 3) fail(node, "input must be [N, C, spatial...]");
  Dims out_dims = x.shape;
  std::fill(out_dims.begin() + 2, out_dims.end(), 1);
  FloatTensor y(out_dims);
  kernels::global_average_pool_f32(x.shape[0] * x.shape[1], product(x.shape, 2, x.shape.size()),
                                   x.data.data(), y.data.data());
  return y;
}

FloatTensor eval_reduce_mean(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& x = input_at(node, inputs, 0);
  const size_t rank = x.shape.size();
  if (rank > static_cast<size_t>(kernels::kMaxRank)) fail(node, "rank above 8");
  kernels::ReduceShape shape;
  shape.rank = static_cast<int>(rank);
  for (size_t d = 0; d < rank; ++d) {
    shape.dims[d] = x.shape[d];
    // No axes means all axes (ONNX default).
    shape.reduced[d] = node.reduce.axes.empty();
  }
  for (int64_t axis : node.reduce.axes) {
    const int64_t a = axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
    if (a < 0 || a >= static_cast<int64_t>(rank)) {
      fail(node, fmt::format("axis {} out of range for {}", axis, dims_to_string(x.shape)));
    }
    shape.reduced[a] = true;
  }
  Dims out_dims;
  for (size_t d = 0; d < rank; ++d) {
    if (!shape.reduced[d]) {
      out_dims.push_back(x.shape[d]);
    } else if (node.reduce.keepdims) {
      out_dims.push_back(1);
    }
  }
  FloatTensor y(out_dims);
  kernels::reduce_mean_f32(shape, x.data.data(), y.data.data());
  return y;
}

FloatTensor eval_pool(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& x = input_at(node, inputs, 0);
  expect_rank(node, x, 4, "input");
  const Window2d& win = node.pool.window;
  kernels::Pool2dParams p;
  p.batch = x.shape[0];
  p.channels = x.shape[1];
  p.in_h = x.shape[2];
  p.in_w = x.shape[3];
  p.kernel_h = win.kernel[0];
  p.kernel_w = win.kernel[1];
  p.stride_h = win.strides[0];
  p.stride_w = win.strides[1];
  p.pad_top = win.pads[0];
  p.pad_left = win.pads[1];
  p.pad_bottom = win.pads[2];
  p.pad_right = win.pads[3];
  p.count_include_pad = node.pool.count_include_pad;
  p.out_h = kernels::pool_output_size(p.in_h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom,
                                      node.pool.ceil_mode);
  p.out_w = kernels::pool_output_size(p.in_w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right,
                                      node.pool.ceil_mode);
  FloatTensor y({p.batch, p.channels, p.out_h, p.out_w});
  if (node.op == OpType::MaxPool) {
    kernels::max_pool2d_nchw_f32(p, x.data.data(), y.data.data());
  } else {
    kernels::average_pool2d_nchw_f32(p, x.data.data(), y.data.data());
  }
  return y;
}

FloatTensor eval_gemm(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& a = input_at(node, inputs, 0);
  const FloatTensor& b = input_at(node, inputs, 1);
  const FloatTensor* c = optional_input(inputs, 2);
  expect_rank(node, a, 2, "A");
  expect_rank(node, b, 2, "B");
  kernels::GemmParams p;
  p.alpha = node.gemm.alpha;
  p.beta = node.gemm.beta;
  p.trans_a = node.gemm.trans_a;
  p.trans_b = node.gemm.trans_b;
  p.m = p.trans_a ? a.shape[1] : a.shape[0];
  p.k = p.trans_a ? a.shape[0] : a.shape[1];
  p.n = p.trans_b ? b.shape[0] : b.shape[1];
  const int64_t b_k = p.trans_b ? b.shape[1] : b.shape[0];
  if (b_k != p.k) {
    fail(node, fmt::format("A {} and B {} disagree on K", dims_to_string(a.shape),
                           dims_to_string(b.shape)));
  }
  if (c) {
    // Unidirectional broadcast of C to [M, N].
    const Dims& cs = c->shape;
    const int64_t rows = cs.size() == 2 ? cs[0] : 1;
    const int64_t cols = cs.empty() ? 1 : cs.back();
    if (cs.size() > 2 || (rows != 1 && rows != p.m) || (cols != 1 && cols != p.n)) {
      fail(node, fmt::format("C {} does not broadcast to [{}, {}]", dims_to_string(cs), p.m, p.n));
    }
    p.c_row_stride = rows == 1 ? 0 : cols;
    p.c_col_stride = cols == 1 ? 0 : 1;
  }
  if (!node.activation.is_none()) {
    p.act_min = node.activation.min;
    p.act_max = node.activation.max;
  }
  FloatTensor y({p.m, p.n});
  kernels::gemm_f32(p, a.data.data(), b.data.data(), c ? c->data.data() : nullptr, y.data.data());
  return y;
}

FloatTensor eval_matmul(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& a = input_at(node, inputs, 0);
  const FloatTensor& b = input_at(node, inputs, 1);
  if (a.shape.empty() || b.shape.empty()) fail(node, "scalar operands are not allowed");
  // Promote 1-D operands to matrices; the added dims are dropped again below.
  Dims a_dims = a.shape;
  Dims b_dims = b.shape;
  if (a.shape.size() == 1) a_dims.insert(a_dims.begin(), 1);
  if (b.shape.size() == 1) b_dims.push_back(1);
  kernels::MatMulShape shape;
  shape.m = a_dims[a_dims.size() - 2];
  shape.k = a_dims.back();
  shape.n = b_dims.back();
  if (b_dims[b_dims.size() - 2] != shape.k) {
    fail(node,
         fmt::format("{} and {} disagree on K", dims_to_string(a.shape), dims_to_string(b.shape)));
  }
  const size_t a_batch = a_dims.size() - 2;
  const size_t b_batch = b_dims.size() - 2;
  const size_t batch_rank = std::max(a_batch, b_batch);
  if (batch_rank > static_cast<size_t>(kernels::kMaxRank)) fail(node, "more than 8 batch dims");
  shape.batch_rank = static_cast<int>(batch_rank);
  Dims out_dims(batch_rank);
  int64_t a_stride = 1;
  int64_t b_stride = 1;
  for (size_t i = 0; i < batch_rank; ++i) {
    const size_t d = batch_rank - 1 - i;
    const int64_t da = i < a_batch ? a_dims[a_batch - 1 - i] : 1;
    const int64_t db = i < b_batch ? b_dims[b_batch - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) {
      fail(node, fmt::format("cannot broadcast batch dims of {} and {}", dims_to_string(a.shape),
                             dims_to_string(b.shape)));
    }
    out_dims[d] = da == 1 ? db : da;
    shape.batch_dims[d] = out_dims[d];
    shape.a_batch_strides[d] = da == 1 ? 0 : a_stride;
    shape.b_batch_strides[d] = db == 1 ? 0 : b_stride;
    a_stride *= da;
    b_stride *= db;
  }
  if (a.shape.size() > 1) out_dims.push_back(shape.m);
  if (b.shape.size() > 1) out_dims.push_back(shape.n);
  FloatTensor y(out_dims);
  kernels::matmul_f32(shape, a.data.data(), b.data.data(), y.data.data());
  apply_activation(node.activation, y);
  return y;
}

FloatTensor eval_flatten(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& x = input_at(node, inputs, 0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = node.axis.axis < 0 ? node.axis.axis + rank : node.axis.axis;
  if (axis < 0 || axis > rank) fail(node, fmt::format("axis {} out of range", node.axis.axis));
  const auto split = static_cast<size_t>(axis);
  return FloatTensor({product(x.shape, 0, split), product(x.shape, split, x.shape.size())}, x.data);
}

FloatTensor eval_reshape(const Graph& graph, const Node& node,
                         const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& x = input_at(node, inputs, 0);
  const FloatTensor* target = optional_input(inputs, 1);
  Dims dims;
  if (target == nullptr) {
    // No shape operand left: the declared output shape is the target.
    dims = graph.tensors.at(static_cast<size_t>(node.outputs.at(0))).shape;
  } else {
    int infer_at = -1;
    int64_t known = 1;
    for (size_t i = 0; i < target->data.size(); ++i) {
      auto d = static_cast<int64_t>(std::lround(target->data[i]));
      if (d == 0 && i < x.shape.size()) d = x.shape[i];  // 0 copies the input dim
      if (d == -1) {
        if (infer_at >= 0) fail(node, "more than one -1 in the target shape");
        infer_at = static_cast<int>(i);
      } else {
        known *= d;
      }
      dims.push_back(d);
    }
    if (infer_at >= 0) {
      const int64_t total = element_count(x.shape);
      if (known == 0 || total % known != 0) fail(node, "cannot infer the -1 dim");
      dims[static_cast<size_t>(infer_at)] = total / known;
    }
  }
  if (element_count(dims) != element_count(x.shape)) {
    fail(node,
         fmt::format("cannot reshape {} to {}", dims_to_string(x.shape), dims_to_string(dims)));
  }
  return FloatTensor(dims, x.data);
}

FloatTensor eval_concat(const Node& node, const std::vector<const FloatTensor*>& inputs) {
  const FloatTensor& first = input_at(node, inputs, 0);
  const auto rank = static_cast<int64_t>(first.shape.size());
  const int64_t axis = node.axis.axis < 0 ? node.axis.axis + rank : node.axis.axis;
  if (axis < 0 || axis >= rank) fail(node, fmt::format("axis {} out of range", node.axis.axis));
  const auto ax = static_cast<size_t>(axis);
  Dims out_dims = first.shape;
  out_dims[ax] = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const FloatTensor& t = input_at(node, inputs, i);
    for (size_t d = 0; d < first.shape.size(); ++d) {
      if (t.shape.size() != first.shape.size() || (d != ax && t.shape[d] != first.shape[d])) {
        fail(node, fmt::format("input {} {} does not match {} outside axis {}", i,
                               dims_to_string(t.shape), dims_to_string(first.shape), axis));
      }
    }
    out_dims[ax] += t.shape[ax];
  }
  FloatTensor y(out_dims);
  const int64_t outer = product(out_dims, 0, ax);
  const int64_t out_inner = product(out_dims, ax, out_dims.size());
  int64_t offset = 0;
  for (const FloatTensor* t : inputs) {
    const int64_t inner = product(t->shape, ax, t->shape.size());
    kernels::concat_copy_f32(outer, inner, out_inner, offset, t->data.data(), y.data.data());
    offset += inner;
  }
  return y;
}

}  // namespace

std::vector<FloatTensor> evaluate_node(const Graph& graph, const Node& node,
                                       const std::vector<const FloatTensor*>& inputs) {
  std::vector<FloatTensor> out;
  switch (node.op) {
    case OpType::Conv:
      out.push_back(eval_conv(node, inputs));
      break;
    case OpType::BatchNormalization:
      out.push_back(eval_batch_norm(node, inputs));
      break;
    case OpType::Relu:
      out.push_back(
          eval_clamp(input_at(node, inputs, 0), 0.0f, std::numeric_limits<float>::infinity()));
      break;
    case OpType::Clip:
      out.push_back(eval_clip(node, inputs));
      break;
    case OpType::Add:
      out.push_back(eval_add(node, inputs));
      break;
    case OpType::GlobalAveragePool:
      out.push_back(eval_global_average_pool(node, inputs));
      break;
    case OpType::ReduceMean:
      out.push_back(eval_reduce_mean(node, inputs));
      break;
    case OpType::AveragePool:
    case OpType::MaxPool:
      out.push_back(eval_pool(node, inputs));
      break;
    case OpType::Gemm:
      out.push_back(eval_gemm(node, inputs));
      break;
    case OpType::MatMul:
      out.push_back(eval_matmul(node, inputs));
      break;
    case OpType::Flatten:
      out.push_back(eval_flatten(node, inputs));
      break;
    case OpType::Reshape:
      out.push_back(eval_reshape(graph, node, inputs));
      break;
    case OpType::Concat:
      out.push_back(eval_concat(node, inputs));
      break;
    case OpType::Identity:
    case OpType::Dropout: {
      const FloatTensor& x = input_at(node, inputs, 0);
      out.push_back(x);
      // Dropout's optional mask output is all true at inference.
      if (node.op == OpType::Dropout && node.outputs.size() > 1) {
        out.emplace_back(x.shape, std::vector<float>(x.data.size(), 1.0f));
      }
      break;
    }
  }
  return out;
}

namespace {

std::string node_label(const Node& node) {
  return fmt::format("node '{}' ({})", node.name, op_type_name(node.op));
}

// Runs the graph once on inputs whose shapes match the declared ones.
// `constants` holds a value for every constant tensor (others empty).
std::vector<FloatTensor> run_once(const Graph& graph,
                                  const std::vector<std::optional<FloatTensor>>& constants,
                                  const std::vector<const FloatTensor*>& inputs) {
  const size_t tensor_count = graph.tensors.size();
  // Last node reading each tensor, so intermediates can be freed early.
  std::vector<int> last_use(tensor_count, -1);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (int t : graph.nodes[i].inputs) {
      if (t >= 0) last_use[static_cast<size_t>(t)] = static_cast<int>(i);
    }
  }
  std::vector<std::optional<FloatTensor>> values(tensor_count);
  auto value_of = [&](int t) -> const FloatTensor* {
    const auto id = static_cast<size_t>(t);
    if (values[id]) return &*values[id];
    if (constants[id]) return &*constants[id];
    for (size_t i = 0; i < graph.inputs.size(); ++i) {
      if (graph.inputs[i] == t) return inputs[i];
    }
    return nullptr;
  };

  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    std::vector<const FloatTensor*> args;
    for (int t : node.inputs) {
      if (t < 0) {
        args.push_back(nullptr);
        continue;
      }
      const FloatTensor* v = value_of(t);
      if (!v) {
        throw Error(fmt::format("{}: input '{}' has no value", node_label(node),
                                graph.tensors[static_cast<size_t>(t)].name));
      }
      args.push_back(v);
    }
    std::vector<FloatTensor> results = evaluate_node(graph, node, args);
    for (size_t o = 0; o < node.outputs.size() && o < results.size(); ++o) {
      const auto id = static_cast<size_t>(node.outputs[o]);
      // The executor and shape inference must agree; a mismatch is a bug in
      // one of them, so say which tensor.
      const Dims& declared = graph.tensors[id].shape;
      if (results[o].shape != declared) {
        throw Error(fmt::format("{}: output '{}' computed as {} but declared {}", node_label(node),
                                graph.tensors[id].name, dims_to_string(results[o].shape),
                                dims_to_string(declared)));
      }
      // An output nobody reads (e.g. an unused Dropout mask) is dropped at once.
      if (last_use[id] < 0 && !graph.is_graph_output(node.outputs[o])) continue;
      values[id] = std::move(results[o]);
    }
    for (int t : node.inputs) {
      if (t >= 0 && last_use[static_cast<size_t>(t)] == static_cast<int>(i) &&
          !graph.is_graph_output(t)) {
        values[static_cast<size_t>(t)].reset();
      }
    }
  }

  std::vector<FloatTensor> outputs;
  for (int t : graph.outputs) {
    const FloatTensor* v = value_of(t);
    if (!v) {
      throw Error(fmt::format("graph output '{}' has no value",
                              graph.tensors[static_cast<size_t>(t)].name));
    }
    outputs.push_back(*v);
  }
  return outputs;
}

// Item `item` of a batched tensor: [N, rest...] -> [1, rest...].
FloatTensor batch_item(const FloatTensor& t, int64_t item) {
  Dims dims = t.shape;
  const int64_t size = element_count(dims) / dims[0];
  dims[0] = 1;
  const auto begin = t.data.begin() + item * size;
  return FloatTensor(dims, std::vector<float>(begin, begin + size));
}

}  // namespace

std::vector<FloatTensor> run_graph(const Graph& graph, const std::vector<FloatTensor>& inputs) {
  if (inputs.size() != graph.inputs.size()) {
    throw Error(
        fmt::format("graph expects {} input(s), got {}", graph.inputs.size(), inputs.size()));
  }
  // Validate shapes and find the batch size N (1 unless every input is batched).
  int64_t batch = 1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& declared = graph.tensors[static_cast<size_t>(graph.inputs[i])];
    const Dims& got = inputs[i].shape;
    const bool same_rest = got.size() == declared.shape.size() && !got.empty() &&
                           std::equal(got.begin() + 1, got.end(), declared.shape.begin() + 1);
    const bool batched = same_rest && declared.shape[0] == 1 && got[0] > 1;
    if (got != declared.shape && !batched) {
      throw Error(fmt::format("input '{}': expected {}, got {}", declared.name,
                              dims_to_string(declared.shape), dims_to_string(got)));
    }
    if (element_count(got) != static_cast<int64_t>(inputs[i].data.size())) {
      throw Error(fmt::format("input '{}': {} values do not fill {}", declared.name,
                              inputs[i].data.size(), dims_to_string(got)));
    }
    const int64_t n = batched ? got[0] : 1;
    if (i > 0 && n != batch) {
      throw Error(fmt::format("input '{}': batch {} differs from the other inputs' batch {}",
                              declared.name, n, batch));
    }
    batch = n;
  }

  std::vector<std::optional<FloatTensor>> constants(graph.tensors.size());
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    const Tensor& tensor = graph.tensors[t];
    if (tensor.is_constant) constants[t] = FloatTensor(tensor.shape, tensor.data);
  }

  if (batch == 1) {
    std::vector<const FloatTensor*> args;
    for (const FloatTensor& t : inputs) args.push_back(&t);
    return run_once(graph, constants, args);
  }
  // Batch rule: run each item on its own, then stack the outputs along dim 0.
  std::vector<FloatTensor> stacked;
  for (int64_t item = 0; item < batch; ++item) {
    std::vector<FloatTensor> items;
    std::vector<const FloatTensor*> args;
    for (const FloatTensor& t : inputs) items.push_back(batch_item(t, item));
    for (const FloatTensor& t : items) args.push_back(&t);
    std::vector<FloatTensor> outputs = run_once(graph, constants, args);
    if (item == 0) {
      stacked = std::move(outputs);
      for (size_t o = 0; o < stacked.size(); ++o) {
        if (stacked[o].shape.empty()) {
          throw Error(fmt::format("graph output '{}' is a scalar and cannot be stacked",
                                  graph.tensors[static_cast<size_t>(graph.outputs[o])].name));
        }
      }
      continue;
    }
    for (size_t o = 0; o < stacked.size(); ++o) {
      stacked[o].shape[0] += outputs[o].shape[0];
      stacked[o].data.insert(stacked[o].data.end(), outputs[o].data.begin(), outputs[o].data.end());
    }
  }
  return stacked;
}

}  // namespace mcusplit::model
