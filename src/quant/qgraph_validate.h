// Structural checks of a QGraph: indices in range, parameters consistent with
// the tensors they connect, constant arrays of the sizes the kernels will
// index. The .mq reader runs them so an executor can trust what it loads.
#pragma once

#include <string>

#include "quant/qgraph.h"

namespace mcusplit::quant {

// Throws mcusplit::Error "'<origin>': layer '<name>': <problem>".
void validate_qgraph(const QGraph& graph, const std::string& origin);

}  // namespace mcusplit::quant
