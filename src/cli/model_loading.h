// Loading a model file for the CLI verbs.
#pragma once

#include <string>

#include "model/graph.h"

namespace mcusplit::cli {

// The graph as imported (batch-norm still separate) and as prepared for
// inference (standard passes run).
struct LoadedModel {
  model::Graph imported;
  model::Graph prepared;
};

LoadedModel load_onnx_model(const std::string& path);

}  // namespace mcusplit::cli
