// Small graph edits shared by the passes.
#pragma once

#include <string>

#include "model/graph.h"

namespace mcusplit::model {

// Makes every node that reads tensor `from` read `to` instead.
void replace_input_uses(Graph& graph, int from, int to);

// True when exactly one node reads `t` and it is not a graph output, so the
// producer of `t` may be rewritten freely.
bool feeds_only_one_node(const Graph& graph, int t);

// `base`, or `base` with a numeric suffix if that name is taken.
std::string unique_tensor_name(const Graph& graph, const std::string& base);

// True when tensor `t` exists and is a constant.
bool is_constant_tensor(const Graph& graph, int t);

}  // namespace mcusplit::model
