// Graph passes run after import, before inference or quantization.
#pragma once

#include "model/graph.h"

namespace mcusplit::model {

// Removes Identity and Dropout (inference mode), rewiring consumers.
void drop_identity_and_dropout(Graph& graph);
// Folds a BatchNormalization that follows a Conv (single consumer) into the
// Conv's weights and bias.
void fold_batch_norm_into_conv(Graph& graph);
// Folds Relu and Clip into the producing Conv, Gemm, MatMul or Add when that
// producer has no other consumer.
void fold_activations(Graph& graph);
// Evaluates nodes whose inputs are all constant and replaces them by constants.
void fold_constants(Graph& graph);

// All of the above in the order inference wants them.
void run_standard_passes(Graph& graph);

}  // namespace mcusplit::model
