// Nodes whose inputs are all constant are computed once, by the float
// executor, and replaced by their results.
#include <algorithm>

#include "model/float_executor.h"
#include "model/passes.h"

namespace mcusplit::model {
namespace {

bool computable_now(const Graph& graph, const Node& node) {
  const auto present = [](int t) { return t >= 0; };
  if (std::none_of(node.inputs.begin(), node.inputs.end(), present)) return false;
  for (int t : node.inputs) {
    if (t >= 0 && !graph.tensors[static_cast<size_t>(t)].is_constant) return false;
  }
  // Graph outputs stay produced by a node, as the executor and planner expect.
  return std::none_of(node.outputs.begin(), node.outputs.end(),
                      [&](int t) { return graph.is_graph_output(t); });
}

}  // namespace

void fold_constants(Graph& graph) {
  for (size_t i = 0; i < graph.nodes.size();) {
    const Node& node = graph.nodes[i];
    if (!computable_now(graph, node)) {
      ++i;
      continue;
    }
    std::vector<FloatTensor> values;
    values.reserve(node.inputs.size());
    std::vector<const FloatTensor*> inputs;
    for (int t : node.inputs) {
      if (t < 0) {
        inputs.push_back(nullptr);
        continue;
      }
      const Tensor& tensor = graph.tensors[static_cast<size_t>(t)];
      values.emplace_back(tensor.shape, tensor.data);
      inputs.push_back(&values.back());
    }
    std::vector<FloatTensor> outputs = evaluate_node(graph, node, inputs);
    for (size_t k = 0; k < node.outputs.size() && k < outputs.size(); ++k) {
      Tensor& out = graph.tensors[static_cast<size_t>(node.outputs[k])];
      out.shape = std::move(outputs[k].shape);
      out.data = std::move(outputs[k].data);
      out.is_constant = true;
    }
    graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

}  // namespace mcusplit::model
