#include "quant/quantizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "quant/calibration.h"
#include "quant/quantizer_context.h"

namespace mcusplit::quant {

core::QuantParams activation_quant_params(const TensorRange& range, const std::string& name) {
  const double lo = std::min(static_cast<double>(range.min), 0.0);
  const double hi = std::max(static_cast<double>(range.max), 0.0);
  if (!range.recorded() || !std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) {
    throw Error(fmt::format("tensor '{}' has no usable calibrated range [{}, {}]", name, range.min,
                            range.max));
  }
  core::QuantParams q;
  q.scale = static_cast<float>((hi - lo) / 255.0);
  if (!(q.scale > 0.0f)) {
    throw Error(fmt::format("tensor '{}' has a range too narrow for int8: [{}, {}]", name, lo, hi));
  }
  const double zp = std::round(-128.0 - lo / static_cast<double>(q.scale));
  q.zero_point = static_cast<int32_t>(std::clamp(zp, -128.0, 127.0));
  return q;
}

namespace detail {

QuantizerContext::QuantizerContext(const model::Graph& graph,
                                   const std::vector<TensorRange>& ranges, QGraph& out)
    : graph_(graph), ranges_(ranges), q_(out), qtensor_of_(graph.tensors.size(), -1) {}

void QuantizerContext::fail(const model::Node& node, const std::string& message) const {
  throw Error(fmt::format("cannot quantize node '{}' ({}): {}", node.name,
                          model::op_type_name(node.op), message));
}

int QuantizerContext::activation_input(const model::Node& node, size_t i,
                                       bool allow_hwc_flatten) const {
  if (i >= node.inputs.size() || node.inputs[i] < 0)
    fail(node, fmt::format("input {} is missing", i));
  const int t = node.inputs[i];
  if (tensor(t).is_constant) {
    fail(node, fmt::format("input {} ('{}') is a constant; int8 needs an activation there", i,
                           tensor(t).name));
  }
  const int q = qtensor_of_[static_cast<size_t>(t)];
  if (q < 0) fail(node, fmt::format("input '{}' is not computed before it", tensor(t).name));
  if (!allow_hwc_flatten && hwc_flatten(q)) {
    fail(node, fmt::format("input '{}' flattens a [C,H,W] tensor whose int8 (NHWC) byte order "
                           "differs from ONNX's; int8 supports that only straight into Gemm/MatMul",
                           tensor(t).name));
  }
  return q;
}

const model::Tensor* QuantizerContext::constant_input(const model::Node& node, size_t i,
                                                      const char* what) const {
  if (i >= node.inputs.size() || node.inputs[i] < 0) return nullptr;
  const model::Tensor& t = tensor(node.inputs[i]);
  if (!t.is_constant) {
    fail(node,
         fmt::format("the {} '{}' is not a constant; int8 needs constant {}", what, t.name, what));
  }
  return &t;
}

core::TensorShape3 QuantizerContext::shape3(const model::Node& node, int graph_tensor) const {
  const model::Dims& d = tensor(graph_tensor).shape;
  const auto fits = [](int64_t v) { return v > 0 && v <= INT32_MAX; };
  if (d.size() == 4 && d[0] == 1 && fits(d[1]) && fits(d[2]) && fits(d[3])) {
    return {static_cast<int32_t>(d[1]), static_cast<int32_t>(d[2]), static_cast<int32_t>(d[3])};
  }
  if (d.size() == 2 && d[0] == 1 && fits(d[1])) return {static_cast<int32_t>(d[1]), 1, 1};
  fail(node, fmt::format("tensor '{}' has shape {}; int8 handles [1,C,H,W] and [1,N]",
                         tensor(graph_tensor).name, model::dims_to_string(d)));
}

int QuantizerContext::add_tensor(int graph_tensor, std::optional<core::QuantParams> same_as) {
  const model::Tensor& t = tensor(graph_tensor);
  QTensor qt;
  qt.name = t.name;
  if (same_as) {
    qt.quant = *same_as;
  } else {
    const auto& r = static_cast<size_t>(graph_tensor) < ranges_.size()
                        ? ranges_[static_cast<size_t>(graph_tensor)]
                        : TensorRange{};
    qt.quant = activation_quant_params(r, t.name);
  }
  const int q = static_cast<int>(q_.tensors.size());
  q_.tensors.push_back(std::move(qt));
  hwc_flatten_.emplace_back();
  qtensor_of_[static_cast<size_t>(graph_tensor)] = q;
  return q;
}

int QuantizerContext::add_output(const model::Node& node,
                                 std::optional<core::QuantParams> same_as) {
  if (node.outputs.size() != 1) fail(node, "int8 layers have exactly one output");
  const int q = add_tensor(node.outputs[0], same_as);
  q_.tensors[static_cast<size_t>(q)].shape = shape3(node, node.outputs[0]);
  return q;
}

QLayer& QuantizerContext::add_layer(const model::Node& node, OpType op, std::vector<int> inputs,
                                    int output) {
  QLayer layer;
  layer.name =
      node.name.empty() ? fmt::format("{}_{}", op_type_name(op), q_.layers.size()) : node.name;
  layer.op = op;
  layer.inputs = std::move(inputs);
  layer.output = output;
  q_.layers.push_back(std::move(layer));
  return q_.layers.back();
}

core::ActivationRange activation_clamp(const model::FusedActivation& act,
                                       const core::QuantParams& out) {
  if (act.is_none()) return {};
  return core::quantized_activation_range(out, act.min, act.max);
}

}  // namespace detail

QGraph quantize_graph(const model::Graph& graph, const std::vector<TensorRange>& ranges,
                      const std::string& source_model) {
  check_single_input_output(graph);
  QGraph q;
  q.source_model = source_model;
  detail::QuantizerContext ctx(graph, ranges, q);

  const int in = graph.inputs[0];
  const model::Tensor& input = graph.tensors[static_cast<size_t>(in)];
  if (input.shape.size() != 4 && input.shape.size() != 2) {
    throw Error(fmt::format("int8 needs an input of shape [1,C,H,W] or [1,N], '{}' is {}",
                            input.name, model::dims_to_string(input.shape)));
  }
  q.input = ctx.add_tensor(in, std::nullopt);
  model::Node input_node;
  input_node.name = "(graph input)";
  q.tensors[static_cast<size_t>(q.input)].shape = ctx.shape3(input_node, in);

  using model::OpType;
  for (const model::Node& node : graph.nodes) {
    switch (node.op) {
      case OpType::Conv:
        detail::quantize_conv(ctx, node);
        break;
      case OpType::Gemm:
      case OpType::MatMul:
        detail::quantize_fully_connected(ctx, node);
        break;
      case OpType::Add:
        detail::quantize_add(ctx, node);
        break;
      case OpType::MaxPool:
      case OpType::AveragePool:
        detail::quantize_pool(ctx, node);
        break;
      case OpType::GlobalAveragePool:
      case OpType::ReduceMean:
        detail::quantize_global_average_pool(ctx, node);
        break;
      case OpType::Concat:
        detail::quantize_concat(ctx, node);
        break;
      case OpType::Flatten:
      case OpType::Reshape:
        detail::quantize_reshape(ctx, node);
        break;
      case OpType::Relu:
      case OpType::Clip:
        ctx.fail(node,
                 "an activation not folded into a Conv, Gemm, MatMul or Add has no int8 layer");
      case OpType::BatchNormalization:
        ctx.fail(node, "a BatchNormalization not folded into a Conv has no int8 layer");
      case OpType::Identity:
      case OpType::Dropout:
        ctx.fail(node, "run model::run_standard_passes before quantizing");
    }
  }

  // The output must be an activation in ONNX element order.
  model::Node output_reader;
  output_reader.name = "(graph output)";
  output_reader.inputs = {graph.outputs[0]};
  q.output = ctx.activation_input(output_reader, 0);
  return q;
}

}  // namespace mcusplit::quant
