// Identity and inference-mode Dropout copy their input; consumers can read
// the input directly.
#include "model/graph_rewrite.h"
#include "model/passes.h"

namespace mcusplit::model {
namespace {

// Removes node `i` (Identity/Dropout) if the graph stays equivalent; returns
// whether it did.
bool try_drop(Graph& graph, size_t i) {
  const Node& node = graph.nodes[i];
  if (node.inputs.empty() || node.outputs.size() != 1 || node.inputs[0] < 0) return false;
  const int in = node.inputs[0];
  const int out = node.outputs[0];
  if (!graph.is_graph_output(out)) {
    replace_input_uses(graph, out, in);
  } else {
    // The output name is what users ask for: let the producer write it
    // directly. Not possible when the input is itself a graph input, a
    // constant or another graph output; then the copy stays.
    const int producer = graph.producer_of(in);
    if (producer < 0 || graph.is_graph_output(in) || is_constant_tensor(graph, in)) return false;
    for (int& t : graph.nodes[static_cast<size_t>(producer)].outputs) {
      if (t == in) t = out;
    }
    replace_input_uses(graph, in, out);
  }
  graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(i));
  return true;
}

}  // namespace

void drop_identity_and_dropout(Graph& graph) {
  for (size_t i = 0; i < graph.nodes.size();) {
    const OpType op = graph.nodes[i].op;
    const bool copy = op == OpType::Identity || op == OpType::Dropout;
    if (!copy || !try_drop(graph, i)) ++i;
  }
}

}  // namespace mcusplit::model
