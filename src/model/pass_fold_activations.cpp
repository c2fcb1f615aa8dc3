// Relu and Clip become the output clamp of the Conv, Gemm, MatMul or Add
// that produces their input (as the int8 kernels apply them).
#include <algorithm>
#include <limits>

#include "model/graph_rewrite.h"
#include "model/passes.h"

namespace mcusplit::model {
namespace {

bool can_carry_activation(OpType op) {
  return op == OpType::Conv || op == OpType::Gemm || op == OpType::MatMul || op == OpType::Add;
}

bool try_fold(Graph& graph, size_t act_index) {
  const Node& act = graph.nodes[act_index];
  if (act.inputs.empty() || act.inputs[0] < 0) return false;
  const int x = act.inputs[0];
  const int producer_index = graph.producer_of(x);
  if (producer_index < 0) return false;
  Node& producer = graph.nodes[static_cast<size_t>(producer_index)];
  if (!can_carry_activation(producer.op) || !feeds_only_one_node(graph, x)) return false;

  float lo = 0.0f;
  float hi = std::numeric_limits<float>::infinity();
  if (act.op == OpType::Clip) {
    lo = act.clip.min;
    hi = act.clip.max;
  }
  // clamp(clamp(v, a1, b1), a2, b2) is one clamp only if the ranges overlap.
  if (!producer.activation.is_none()) {
    lo = std::max(lo, producer.activation.min);
    hi = std::min(hi, producer.activation.max);
  }
  if (!(lo <= hi)) return false;

  const bool relu = lo == 0.0f && hi == std::numeric_limits<float>::infinity();
  producer.activation.kind = relu ? FusedActivation::Kind::Relu : FusedActivation::Kind::Clip;
  producer.activation.min = lo;
  producer.activation.max = hi;
  producer.outputs[0] = act.outputs[0];
  graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(act_index));
  return true;
}

}  // namespace

void fold_activations(Graph& graph) {
  for (size_t i = 0; i < graph.nodes.size();) {
    const OpType op = graph.nodes[i].op;
    const bool is_activation = op == OpType::Relu || op == OpType::Clip;
    if (!is_activation || !try_fold(graph, i)) ++i;
  }
}

}  // namespace mcusplit::model
