// Float reference executor: the oracle for everything after import.
// Clarity over speed; it runs each node with the float kernels.
#pragma once

#include <vector>

#include "model/float_tensor.h"
#include "model/graph.h"

namespace mcusplit::model {

// Evaluates one node on the given input values (in node.inputs order, nullptr
// for an omitted optional input). Returns one value per node output.
std::vector<FloatTensor> evaluate_node(const Graph& graph, const Node& node,
                                       const std::vector<const FloatTensor*>& inputs);

// Runs the graph; `inputs` follow graph.inputs. An input whose first dim is
// N > 1 where the graph declares 1 is run item by item and the outputs are
// stacked along dim 0. Throws mcusplit::Error on a wrong input count or shape.
std::vector<FloatTensor> run_graph(const Graph& graph, const std::vector<FloatTensor>& inputs);

}  // namespace mcusplit::model
