// Static shape inference over the graph IR.
#pragma once

#include "model/graph.h"

namespace mcusplit::model {

// Output shapes of `node` from the shapes of its inputs (and constant values
// where an operator needs them, e.g. Reshape's target shape).
std::vector<Dims> infer_node_output_shapes(const Graph& graph, const Node& node);

// Fills the shape of every node output in topological order. Throws
// mcusplit::Error when shapes are inconsistent (naming the node).
void infer_shapes(Graph& graph);

}  // namespace mcusplit::model
