#include "model/graph_rewrite.h"

namespace mcusplit::model {

void replace_input_uses(Graph& graph, int from, int to) {
  for (Node& node : graph.nodes) {
    for (int& t : node.inputs) {
      if (t == from) t = to;
    }
  }
}

bool feeds_only_one_node(const Graph& graph, int t) {
  return !graph.is_graph_output(t) && graph.consumers_of(t).size() == 1;
}

std::string unique_tensor_name(const Graph& graph, const std::string& base) {
  std::string name = base;
  for (int i = 1; graph.find_tensor(name) >= 0; ++i) name = base + "_" + std::to_string(i);
  return name;
}

bool is_constant_tensor(const Graph& graph, int t) {
  return t >= 0 && static_cast<size_t>(t) < graph.tensors.size() &&
         graph.tensors[static_cast<size_t>(t)].is_constant;
}

}  // namespace mcusplit::model
