// ONNX shape semantics for the IR operators.
#include "model/shape_inference.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace mcusplit::model {
namespace {

class ShapeContext {
 public:
  ShapeContext(const Graph& graph, const Node& node) : graph_(graph), node_(node) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("node '" + node_.name + "' (" + std::string(op_type_name(node_.op)) + "): " + what);
  }
  void expect_inputs(size_t min, size_t max) const {
    const size_t n = node_.inputs.size();
    if (n < min || n > max) fail("has " + std::to_string(n) + " inputs");
    for (size_t i = 0; i < min; ++i) {
      if (node_.inputs[i] < 0) fail("input " + std::to_string(i) + " is missing");
    }
  }
  bool has_input(size_t i) const { return i < node_.inputs.size() && node_.inputs[i] >= 0; }
  const Tensor& tensor(size_t i) const {
    const int t = node_.inputs.at(i);
    if (t < 0 || static_cast<size_t>(t) >= graph_.tensors.size()) fail("bad input index");
    return graph_.tensors[static_cast<size_t>(t)];
  }
  const Dims& shape(size_t i) const { return tensor(i).shape; }
  void expect_rank(size_t i, size_t rank, const std::string& role) const {
    if (shape(i).size() != rank) {
      fail(role + " '" + tensor(i).name + "' has shape " + dims_to_string(shape(i)) +
           ", expected " + std::to_string(rank) + "-D");
    }
  }
  const Node& node() const { return node_; }

 private:
  const Graph& graph_;
  const Node& node_;
};

// Numpy broadcasting of two shapes.
Dims broadcast(const ShapeContext& ctx, const Dims& a, const Dims& b) {
  const size_t rank = std::max(a.size(), b.size());
  Dims out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      ctx.fail("shapes " + dims_to_string(a) + " and " + dims_to_string(b) + " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Output size of a 2-D window along one axis (ONNX, with PyTorch's rule that
// a ceil_mode window must start inside the input or its leading padding).
int64_t window_output(const ShapeContext& ctx, int64_t in, int64_t kernel, int64_t stride,
                      int64_t pad_begin, int64_t pad_end, bool ceil_mode) {
  const int64_t span = in + pad_begin + pad_end - kernel;
  if (span < 0) {
    ctx.fail("kernel " + std::to_string(kernel) + " is larger than the padded input " +
             std::to_string(in + pad_begin + pad_end));
  }
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

Dims window_shape(const ShapeContext& ctx, const Dims& in, int64_t channels, const Window2d& w,
                  bool ceil_mode) {
  Dims out{in[0], channels, 0, 0};
  for (size_t i = 0; i < 2; ++i) {
    out[2 + i] = window_output(ctx, in[2 + i], w.kernel[i], w.strides[i], w.pads[i], w.pads[2 + i],
                               ceil_mode);
  }
  return out;
}

Dims conv_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_rank(0, 4, "input");
  ctx.expect_rank(1, 4, "weight");
  const Dims& x = ctx.shape(0);
  const Dims& w = ctx.shape(1);
  const ConvAttrs& a = ctx.node().conv;
  if (a.group <= 0 || x[1] % a.group != 0 || w[0] % a.group != 0) {
    ctx.fail("group " + std::to_string(a.group) + " does not divide input channels " +
             std::to_string(x[1]) + " and output channels " + std::to_string(w[0]));
  }
  if (w[1] * a.group != x[1]) {
    ctx.fail("input has " + std::to_string(x[1]) + " channels but weight " + dims_to_string(w) +
             " with group " + std::to_string(a.group) + " expects " +
             std::to_string(w[1] * a.group));
  }
  if (w[2] != a.window.kernel[0] || w[3] != a.window.kernel[1]) {
    ctx.fail("kernel does not match weight shape " + dims_to_string(w));
  }
  if (ctx.has_input(2) && ctx.shape(2) != Dims{w[0]}) {
    ctx.fail("bias has shape " + dims_to_string(ctx.shape(2)) + ", expected [" +
             std::to_string(w[0]) + "]");
  }
  return window_shape(ctx, x, w[0], a.window, false);
}

Dims pool_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  ctx.expect_rank(0, 4, "input");
  const Dims& x = ctx.shape(0);
  return window_shape(ctx, x, x[1], ctx.node().pool.window, ctx.node().pool.ceil_mode);
}

Dims batch_norm_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(5, 5);
  const Dims& x = ctx.shape(0);
  if (x.size() < 2) ctx.fail("input has shape " + dims_to_string(x) + ", expected [N, C, ...]");
  for (size_t i = 1; i < 5; ++i) {
    if (ctx.shape(i) != Dims{x[1]}) {
      ctx.fail("parameter '" + ctx.tensor(i).name + "' has shape " + dims_to_string(ctx.shape(i)) +
               ", expected [" + std::to_string(x[1]) + "]");
    }
  }
  return x;
}

Dims global_pool_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  Dims out = ctx.shape(0);
  if (out.size() < 3) ctx.fail("input has shape " + dims_to_string(out) + ", expected [N, C, ...]");
  std::fill(out.begin() + 2, out.end(), 1);
  return out;
}

Dims reduce_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  const Dims& x = ctx.shape(0);
  const ReduceAttrs& a = ctx.node().reduce;
  std::vector<bool> reduced(x.size(), false);
  for (int64_t axis : a.axes) {
    if (axis < 0 || axis >= static_cast<int64_t>(x.size())) {
      ctx.fail("axis " + std::to_string(axis) + " is out of range for shape " + dims_to_string(x));
    }
    reduced[static_cast<size_t>(axis)] = true;
  }
  Dims out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!reduced[i]) {
      out.push_back(x[i]);
    } else if (a.keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

Dims gemm_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 3);
  ctx.expect_rank(0, 2, "A");
  ctx.expect_rank(1, 2, "B");
  const GemmAttrs& a = ctx.node().gemm;
  const Dims& sa = ctx.shape(0);
  const Dims& sb = ctx.shape(1);
  const int64_t m = a.trans_a ? sa[1] : sa[0];
  const int64_t k = a.trans_a ? sa[0] : sa[1];
  const int64_t kb = a.trans_b ? sb[1] : sb[0];
  const int64_t n = a.trans_b ? sb[0] : sb[1];
  if (k != kb) {
    ctx.fail("A " + dims_to_string(sa) + " and B " + dims_to_string(sb) +
             " have different inner dimensions");
  }
  const Dims out{m, n};
  // C broadcasts to [M, N] in one direction only.
  if (ctx.has_input(2) && broadcast(ctx, out, ctx.shape(2)) != out) {
    ctx.fail("C " + dims_to_string(ctx.shape(2)) + " does not broadcast to " + dims_to_string(out));
  }
  return out;
}

Dims matmul_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  Dims a = ctx.shape(0);
  Dims b = ctx.shape(1);
  if (a.empty() || b.empty()) ctx.fail("inputs must not be scalars");
  // 1-D operands are promoted to matrices and the added axis removed after.
  const bool a_vector = a.size() == 1;
  const bool b_vector = b.size() == 1;
  if (a_vector) a.insert(a.begin(), 1);
  if (b_vector) b.push_back(1);
  if (a.back() != b[b.size() - 2]) {
    ctx.fail("shapes " + dims_to_string(ctx.shape(0)) + " and " + dims_to_string(ctx.shape(1)) +
             " cannot be multiplied");
  }
  Dims out = broadcast(ctx, Dims(a.begin(), a.end() - 2), Dims(b.begin(), b.end() - 2));
  if (!a_vector) out.push_back(a[a.size() - 2]);
  if (!b_vector) out.push_back(b.back());
  return out;
}

Dims flatten_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  const Dims& x = ctx.shape(0);
  const int64_t axis = ctx.node().axis.axis;
  if (axis < 0 || axis > static_cast<int64_t>(x.size())) {
    ctx.fail("axis " + std::to_string(axis) + " is out of range for shape " + dims_to_string(x));
  }
  const auto split = x.begin() + axis;
  return {element_count(Dims(x.begin(), split)), element_count(Dims(split, x.end()))};
}

Dims reshape_shape(const ShapeContext& ctx) {
  ctx.expect_inputs(2, 2);
  const Dims& x = ctx.shape(0);
  const Tensor& target = ctx.tensor(1);
  if (!target.is_constant) ctx.fail("target shape '" + target.name + "' is not constant");
  Dims out;
  int infer_at = -1;
  for (size_t i = 0; i < target.data.size(); ++i) {
    const float v = target.data[i];
    // Guards the float-to-integer conversion against garbage values.
    const int64_t d = std::isfinite(v) && std::fabs(v) < 1e15f ? static_cast<int64_t>(v) : -2;
    if (d == 0) {
      // 0 copies the input dimension (allowzero=1 with zeros is rejected at import).
      if (i >= x.size())
        ctx.fail("target shape copies dimension " + std::to_string(i) + " of " + dims_to_string(x));
      out.push_back(x[i]);
    } else if (d == -1) {
      if (infer_at >= 0) ctx.fail("target shape has more than one -1");
      infer_at = static_cast<int>(i);
      out.push_back(1);
    } else if (d < 0) {
      ctx.fail("target shape has dimension " + std::to_string(d));
    } else {
      out.push_back(d);
    }
  }
  const int64_t total = element_count(x);
  const int64_t known = element_count(out);
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0) {
      ctx.fail("cannot reshape " + dims_to_string(x) + " to " + dims_to_string(out) + " with -1");
    }
    out[static_cast<size_t>(infer_at)] = total / known;
  } else if (known != total) {
    ctx.fail("cannot reshape " + dims_to_string(x) + " (" + std::to_string(total) + " values) to " +
             dims_to_string(out));
  }
  return out;
}

Dims concat_shape(const ShapeContext& ctx) {
  if (ctx.node().inputs.empty()) ctx.fail("has no inputs");
  ctx.expect_inputs(ctx.node().inputs.size(), ctx.node().inputs.size());
  Dims out = ctx.shape(0);
  const int64_t axis = ctx.node().axis.axis;
  if (axis < 0 || axis >= static_cast<int64_t>(out.size())) {
    ctx.fail("axis " + std::to_string(axis) + " is out of range for shape " + dims_to_string(out));
  }
  const auto a = static_cast<size_t>(axis);
  for (size_t i = 1; i < ctx.node().inputs.size(); ++i) {
    const Dims& s = ctx.shape(i);
    bool ok = s.size() == out.size();
    for (size_t d = 0; ok && d < s.size(); ++d) ok = d == a || s[d] == out[d];
    if (!ok) {
      ctx.fail("input shapes " + dims_to_string(ctx.shape(0)) + " and " + dims_to_string(s) +
               " differ outside axis " + std::to_string(axis));
    }
    out[a] += s[a];
  }
  return out;
}

Dims same_as_input(const ShapeContext& ctx) {
  ctx.expect_inputs(1, 1);
  return ctx.shape(0);
}

}  // namespace

std::vector<Dims> infer_node_output_shapes(const Graph& graph, const Node& node) {
  const ShapeContext ctx(graph, node);
  switch (node.op) {
    case OpType::Conv:
      return {conv_shape(ctx)};
    case OpType::BatchNormalization:
      return {batch_norm_shape(ctx)};
    case OpType::Relu:
    case OpType::Clip:
    case OpType::Identity:
    case OpType::Dropout:
      return {same_as_input(ctx)};
    case OpType::Add:
      ctx.expect_inputs(2, 2);
      return {broadcast(ctx, ctx.shape(0), ctx.shape(1))};
    case OpType::GlobalAveragePool:
      return {global_pool_shape(ctx)};
    case OpType::ReduceMean:
      return {reduce_shape(ctx)};
    case OpType::AveragePool:
    case OpType::MaxPool:
      return {pool_shape(ctx)};
    case OpType::Gemm:
      return {gemm_shape(ctx)};
    case OpType::MatMul:
      return {matmul_shape(ctx)};
    case OpType::Flatten:
      return {flatten_shape(ctx)};
    case OpType::Reshape:
      return {reshape_shape(ctx)};
    case OpType::Concat:
      return {concat_shape(ctx)};
  }
  ctx.fail("unknown operator");
}

void infer_shapes(Graph& graph) {
  for (const Node& node : graph.nodes) {
    std::vector<Dims> shapes = infer_node_output_shapes(graph, node);
    if (shapes.size() != node.outputs.size()) {
      throw Error("node '" + node.name + "' has " + std::to_string(node.outputs.size()) +
                  " outputs, expected " + std::to_string(shapes.size()));
    }
    for (size_t i = 0; i < shapes.size(); ++i) {
      graph.tensors[static_cast<size_t>(node.outputs[i])].shape = std::move(shapes[i]);
    }
  }
}

}  // namespace mcusplit::model
