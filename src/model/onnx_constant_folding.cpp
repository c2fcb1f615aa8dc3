#include "model/onnx_constant_folding.h"

#include <algorithm>
#include <cmath>

#include "model/onnx_attributes.h"
#include "model/onnx_tensor.h"

namespace mcusplit::model {
namespace {

int64_t rank_of(const Dims& dims) {
  return static_cast<int64_t>(dims.size());
}

// Resolves a possibly negative axis against `rank`.
int64_t normalize_axis(const OnnxNodeContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    ctx.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

// Row-major strides of `dims`.
std::vector<int64_t> strides_of(const Dims& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

// The tensor of `out_shape` whose element at index (i0, i1, ...) is
// data[base + sum_d i_d * walk[d]]: a strided view of `data` (Slice,
// Transpose) made dense.
FloatTensor gather(const Tensor& data, Dims out_shape, int64_t base,
                   const std::vector<int64_t>& walk) {
  const std::vector<int64_t> out_strides = strides_of(out_shape);
  const int64_t total = element_count(out_shape);
  std::vector<float> out(static_cast<size_t>(total));
  for (int64_t o = 0; o < total; ++o) {
    int64_t offset = base;
    for (size_t d = 0; d < out_shape.size(); ++d) {
      offset += (o / out_strides[d]) % out_shape[d] * walk[d];
    }
    out[static_cast<size_t>(o)] = data.data[static_cast<size_t>(offset)];
  }
  return FloatTensor(std::move(out_shape), std::move(out));
}

const Tensor& constant_data(const OnnxNodeContext& ctx, size_t i) {
  return ctx.required_constant_input(i, "input " + std::to_string(i));
}

FloatTensor eval_constant(const OnnxNodeContext& ctx) {
  const auto& attrs = ctx.proto().attribute();
  if (attrs.size() != 1) ctx.fail("needs exactly one value attribute");
  const std::string& name = attrs[0].name();
  if (name == "value") {
    return tensor_from_proto(tensor_attribute(ctx, "value"), ctx.label() + " value");
  }
  if (name == "value_float") return FloatTensor({}, {float_attribute(ctx, name, 0.0f)});
  if (name == "value_int") {
    return FloatTensor({}, {static_cast<float>(int_attribute(ctx, name, 0))});
  }
  if (name == "value_floats") {
    std::vector<float> values = floats_attribute(ctx, name);
    const auto n = static_cast<int64_t>(values.size());
    return FloatTensor({n}, std::move(values));
  }
  if (name == "value_ints") {
    std::vector<float> values;
    for (int64_t v : ints_attribute(ctx, name)) values.push_back(static_cast<float>(v));
    const auto n = static_cast<int64_t>(values.size());
    return FloatTensor({n}, std::move(values));
  }
  ctx.fail("attribute '" + name + "' is not supported (only numeric values)");
}

FloatTensor eval_shape(const OnnxNodeContext& ctx) {
  const Dims& dims = ctx.input_tensor(0).shape;
  const int64_t rank = rank_of(dims);
  // Opset 15 added start/end; they clamp like Slice.
  auto clamp_index = [rank](int64_t v) {
    return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank);
  };
  const int64_t start = clamp_index(int_attribute(ctx, "start", 0));
  const int64_t end = clamp_index(int_attribute(ctx, "end", rank));
  std::vector<float> values;
  for (int64_t i = start; i < end; ++i)
    values.push_back(static_cast<float>(dims[static_cast<size_t>(i)]));
  const auto n = static_cast<int64_t>(values.size());
  return FloatTensor({n}, std::move(values));
}

FloatTensor eval_gather(const OnnxNodeContext& ctx) {
  const Tensor& data = constant_data(ctx, 0);
  const Tensor& indices = constant_data(ctx, 1);
  if (data.shape.empty()) ctx.fail("cannot gather from a scalar");
  const int64_t axis = normalize_axis(ctx, int_attribute(ctx, "axis", 0), rank_of(data.shape));
  const int64_t axis_dim = data.shape[static_cast<size_t>(axis)];

  Dims out_shape(data.shape.begin(), data.shape.begin() + axis);
  out_shape.insert(out_shape.end(), indices.shape.begin(), indices.shape.end());
  out_shape.insert(out_shape.end(), data.shape.begin() + axis + 1, data.shape.end());

  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= data.shape[static_cast<size_t>(i)];
  const int64_t inner = strides_of(data.shape)[static_cast<size_t>(axis)];
  std::vector<float> out;
  out.reserve(static_cast<size_t>(element_count(out_shape)));
  const std::vector<int64_t> index_values = tensor_to_int64s(indices);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t index : index_values) {
      if (index < -axis_dim || index >= axis_dim) {
        ctx.fail("index " + std::to_string(index) + " is out of range for dimension " +
                 std::to_string(axis_dim));
      }
      if (index < 0) index += axis_dim;
      const auto begin = data.data.begin() + (o * axis_dim + index) * inner;
      out.insert(out.end(), begin, begin + inner);
    }
  }
  return FloatTensor(std::move(out_shape), std::move(out));
}

// Axes of Squeeze/Unsqueeze: an attribute before opset 13, an input after.
std::vector<int64_t> squeeze_axes(const OnnxNodeContext& ctx) {
  if (ctx.opset() < 13) return ints_attribute(ctx, "axes");
  if (ctx.input(1) < 0) return {};
  return tensor_to_int64s(ctx.required_constant_input(1, "axes"));
}

FloatTensor eval_cast(const OnnxNodeContext& ctx) {
  const Tensor& input = constant_data(ctx, 0);
  const int64_t to = int_attribute(ctx, "to", onnx::TensorProto::FLOAT);
  std::vector<float> values = input.data;
  switch (to) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::FLOAT16:
      break;
    case onnx::TensorProto::BOOL:
      for (float& v : values) v = v != 0.0f ? 1.0f : 0.0f;
      break;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::UINT64:
      for (float& v : values) v = std::trunc(v);
      break;
    default:
      ctx.fail("cast to " + onnx_data_type_name(static_cast<int>(to)) + " is not supported");
  }
  return FloatTensor(input.shape, std::move(values));
}

FloatTensor eval_slice(const OnnxNodeContext& ctx) {
  const Tensor& data = constant_data(ctx, 0);
  const int64_t rank = rank_of(data.shape);
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ints_attribute(ctx, "starts");
    ends = ints_attribute(ctx, "ends");
    axes = ints_attribute(ctx, "axes");
  } else {
    starts = tensor_to_int64s(ctx.required_constant_input(1, "starts"));
    ends = tensor_to_int64s(ctx.required_constant_input(2, "ends"));
    if (ctx.input(3) >= 0) axes = tensor_to_int64s(ctx.required_constant_input(3, "axes"));
    if (ctx.input(4) >= 0) steps = tensor_to_int64s(ctx.required_constant_input(4, "steps"));
  }
  if (axes.empty()) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    ctx.fail("starts, ends, axes and steps differ in length");
  }

  // Per axis: first index and step; defaults take the whole axis.
  std::vector<int64_t> first(static_cast<size_t>(rank), 0), step(static_cast<size_t>(rank), 1);
  Dims out_shape = data.shape;
  for (size_t i = 0; i < starts.size(); ++i) {
    const auto axis = static_cast<size_t>(normalize_axis(ctx, axes[i], rank));
    const int64_t dim = data.shape[axis];
    const int64_t s = steps[i];
    if (s == 0) ctx.fail("slice step 0");
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end =
        ends[i] < 0 && ends[i] > std::numeric_limits<int64_t>::min() ? ends[i] + dim : ends[i];
    int64_t count;
    if (s > 0) {
      start = std::clamp(start, int64_t{0}, dim);
      end = std::clamp(end, int64_t{0}, dim);
      count = end > start ? (end - start + s - 1) / s : 0;
    } else {
      start = std::clamp(start, int64_t{0}, dim - 1);
      end = std::clamp(end, int64_t{-1}, dim - 1);
      count = start > end ? (start - end - s - 1) / -s : 0;
    }
    first[axis] = start;
    step[axis] = s;
    out_shape[axis] = count;
  }

  const std::vector<int64_t> in_strides = strides_of(data.shape);
  int64_t base = 0;
  std::vector<int64_t> walk(out_shape.size());
  for (size_t d = 0; d < out_shape.size(); ++d) {
    base += first[d] * in_strides[d];
    walk[d] = step[d] * in_strides[d];
  }
  return gather(data, std::move(out_shape), base, walk);
}

FloatTensor eval_concat(const OnnxNodeContext& ctx) {
  std::vector<const Tensor*> parts;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    if (ctx.input(i) >= 0) parts.push_back(&constant_data(ctx, i));
  }
  if (parts.empty()) ctx.fail("has no inputs");
  const Dims& first = parts[0]->shape;
  const int64_t axis = normalize_axis(ctx, int_attribute(ctx, "axis", 0), rank_of(first));
  Dims out_shape = first;
  out_shape[static_cast<size_t>(axis)] = 0;
  for (const Tensor* part : parts) {
    bool compatible = part->shape.size() == first.size();
    for (size_t d = 0; compatible && d < first.size(); ++d) {
      compatible = static_cast<int64_t>(d) == axis || part->shape[d] == first[d];
    }
    if (!compatible) {
      ctx.fail("inputs " + dims_to_string(first) + " and " + dims_to_string(part->shape) +
               " cannot be concatenated on axis " + std::to_string(axis));
    }
    out_shape[static_cast<size_t>(axis)] += part->shape[static_cast<size_t>(axis)];
  }
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= first[static_cast<size_t>(d)];
  std::vector<float> out;
  out.reserve(static_cast<size_t>(element_count(out_shape)));
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor* part : parts) {
      const int64_t block = outer ? static_cast<int64_t>(part->data.size()) / outer : 0;
      const auto begin = part->data.begin() + o * block;
      out.insert(out.end(), begin, begin + block);
    }
  }
  return FloatTensor(std::move(out_shape), std::move(out));
}

// Older PyTorch exports write Transpose(weight) before MatMul: a layout op
// on an initializer, folded into a new constant.
FloatTensor eval_transpose(const OnnxNodeContext& ctx) {
  const Tensor& data = constant_data(ctx, 0);
  const int64_t rank = rank_of(data.shape);
  std::vector<int64_t> perm = ints_attribute(ctx, "perm");
  if (perm.empty()) {
    for (int64_t d = rank; d-- > 0;) perm.push_back(d);  // the default: reverse the axes
  }
  if (rank_of(perm) != rank) {
    ctx.fail("perm has " + std::to_string(perm.size()) + " axes for an input of rank " +
             std::to_string(rank));
  }
  std::vector<bool> used(static_cast<size_t>(rank), false);
  Dims out_shape;
  for (int64_t& axis : perm) {
    axis = normalize_axis(ctx, axis, rank);
    if (used[static_cast<size_t>(axis)]) ctx.fail("perm repeats axis " + std::to_string(axis));
    used[static_cast<size_t>(axis)] = true;
    out_shape.push_back(data.shape[static_cast<size_t>(axis)]);
  }
  const std::vector<int64_t> in_strides = strides_of(data.shape);
  std::vector<int64_t> walk;
  for (const int64_t axis : perm) walk.push_back(in_strides[static_cast<size_t>(axis)]);
  return gather(data, std::move(out_shape), 0, walk);
}

}  // namespace

bool folds_on_constants(const std::string& op_type) {
  return op_type == "Concat" || op_type == "Transpose";
}

bool is_import_time_op(const std::string& op_type) {
  static const char* const kOps[] = {"Constant", "Shape", "Gather", "Unsqueeze",
                                     "Squeeze",  "Cast",  "Slice"};
  return std::any_of(std::begin(kOps), std::end(kOps),
                     [&](const char* op) { return op_type == op; });
}

bool all_inputs_constant(const OnnxNodeContext& ctx) {
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    if (ctx.input(i) >= 0 && !ctx.constant_input(i)) return false;
  }
  return true;
}

Dims squeeze_unsqueeze_output_dims(const OnnxNodeContext& ctx, const Dims& input) {
  std::vector<int64_t> axes = squeeze_axes(ctx);
  if (ctx.op_type() == "Unsqueeze") {
    const int64_t out_rank = rank_of(input) + static_cast<int64_t>(axes.size());
    std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
    for (int64_t axis : axes) {
      const auto a = static_cast<size_t>(normalize_axis(ctx, axis, out_rank));
      if (inserted[a]) ctx.fail("axis " + std::to_string(axis) + " is repeated");
      inserted[a] = true;
    }
    Dims out;
    size_t next = 0;
    for (size_t d = 0; d < inserted.size(); ++d) out.push_back(inserted[d] ? 1 : input[next++]);
    return out;
  }
  std::vector<bool> removed(input.size(), false);
  if (axes.empty()) {
    for (size_t d = 0; d < input.size(); ++d) removed[d] = input[d] == 1;
  }
  for (int64_t axis : axes) {
    const auto a = static_cast<size_t>(normalize_axis(ctx, axis, rank_of(input)));
    if (input[a] != 1) {
      ctx.fail("cannot squeeze axis " + std::to_string(axis) + " of shape " +
               dims_to_string(input));
    }
    removed[a] = true;
  }
  Dims out;
  for (size_t d = 0; d < input.size(); ++d) {
    if (!removed[d]) out.push_back(input[d]);
  }
  return out;
}

std::vector<FloatTensor> evaluate_at_import(const OnnxNodeContext& ctx) {
  const std::string& op = ctx.op_type();
  if (op == "Constant") return {eval_constant(ctx)};
  if (op == "Shape") return {eval_shape(ctx)};
  if (op == "Gather") return {eval_gather(ctx)};
  if (op == "Cast") return {eval_cast(ctx)};
  if (op == "Slice") return {eval_slice(ctx)};
  if (op == "Concat") return {eval_concat(ctx)};
  if (op == "Transpose") return {eval_transpose(ctx)};
  if (op == "Squeeze" || op == "Unsqueeze") {
    const Tensor& data = constant_data(ctx, 0);
    return {FloatTensor(squeeze_unsqueeze_output_dims(ctx, data.shape), data.data)};
  }
  ctx.fail("cannot be evaluated at import time");
}

}  // namespace mcusplit::model
