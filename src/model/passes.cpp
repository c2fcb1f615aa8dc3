#include "model/passes.h"

#include "model/shape_inference.h"

namespace mcusplit::model {

void run_standard_passes(Graph& graph) {
  drop_identity_and_dropout(graph);
  // Before the BN fold, so weights computed from constants count as constant.
  fold_constants(graph);
  fold_batch_norm_into_conv(graph);
  // After the BN fold: a Conv -> BN -> Relu chain becomes one Conv.
  fold_activations(graph);
  graph.remove_unused_tensors();
  infer_shapes(graph);
}

}  // namespace mcusplit::model
