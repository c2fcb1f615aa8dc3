#include "model/model_stats.h"

#include <cstdio>

#include <algorithm>

#include "model/passes.h"

namespace mcusplit::model {
namespace {

// "+Relu", "+Clip(0,6)": a folded activation shows next to its operator.
std::string activation_suffix(const FusedActivation& a) {
  switch (a.kind) {
    case FusedActivation::Kind::None:
      return "";
    case FusedActivation::Kind::Relu:
      return "+Relu";
    case FusedActivation::Kind::Clip: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "+Clip(%g,%g)", static_cast<double>(a.min),
                    static_cast<double>(a.max));
      return buf;
    }
  }
  return "";
}

}  // namespace

namespace {

bool is_constant_input(const Graph& graph, int t) {
  return t >= 0 && graph.tensors[static_cast<size_t>(t)].is_constant;
}

const Dims& shape_of(const Graph& graph, int t) {
  return graph.tensors[static_cast<size_t>(t)].shape;
}

// Input positions holding trainable parameters when constant.
bool is_parameter_input(OpType op, size_t position) {
  switch (op) {
    case OpType::Conv:
    case OpType::Gemm:
    case OpType::MatMul:
    case OpType::Add:
      return true;  // weights/biases; constant operands of Gemm/MatMul/Add too
    case OpType::BatchNormalization:
      return position == 1 || position == 2;  // scale, shift; not mean, var
    default:
      return false;
  }
}

int64_t layer_params(const Graph& graph, const Node& node) {
  int64_t params = 0;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const int t = node.inputs[i];
    if (is_constant_input(graph, t) && is_parameter_input(node.op, i)) {
      params += element_count(shape_of(graph, t));
    }
  }
  return params;
}

int64_t layer_macs(const Graph& graph, const Node& node, const Dims& output_shape) {
  const int64_t output_elements = element_count(output_shape);
  switch (node.op) {
    case OpType::Conv: {
      // Weight [M, C/group, kh, kw]: each output element takes C/group*kh*kw.
      const Dims& weight = shape_of(graph, node.inputs.at(1));
      if (weight.empty() || weight[0] == 0) return 0;
      return output_elements * (element_count(weight) / weight[0]);
    }
    case OpType::Gemm: {
      const Dims& a = shape_of(graph, node.inputs.at(0));
      if (a.size() != 2) return 0;
      const int64_t k = node.gemm.trans_a ? a[0] : a[1];
      return output_elements * k;  // M*N*K
    }
    case OpType::MatMul: {
      const Dims& a = shape_of(graph, node.inputs.at(0));
      if (a.empty()) return 0;
      return output_elements * a.back();  // batch*M*N*K
    }
    default:
      return 0;
  }
}

}  // namespace

ModelStats compute_model_stats(const Graph& graph) {
  ModelStats stats;
  stats.layers.reserve(graph.nodes.size());
  for (const Node& node : graph.nodes) {
    LayerStats layer;
    layer.name = node.name;
    layer.op = std::string(op_type_name(node.op)) + activation_suffix(node.activation);
    for (int t : node.inputs) {
      if (t < 0 || is_constant_input(graph, t)) continue;
      layer.input_shapes.push_back(shape_of(graph, t));
      layer.io_bytes_int8 += element_count(shape_of(graph, t));
    }
    if (!node.outputs.empty()) layer.output_shape = shape_of(graph, node.outputs[0]);
    for (int t : node.outputs) layer.io_bytes_int8 += element_count(shape_of(graph, t));
    layer.params = layer_params(graph, node);
    layer.macs = layer_macs(graph, node, layer.output_shape);

    stats.params += layer.params;
    stats.macs += layer.macs;
    stats.peak_layer_io_bytes_int8 = std::max(stats.peak_layer_io_bytes_int8, layer.io_bytes_int8);
    stats.layers.push_back(std::move(layer));
  }
  return stats;
}

ModelStats inspect_model_stats(const Graph& imported) {
  Graph passed = imported;
  run_standard_passes(passed);
  ModelStats stats = compute_model_stats(passed);
  stats.params = compute_model_stats(imported).params;
  return stats;
}

}  // namespace mcusplit::model
