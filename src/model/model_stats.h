// Per-layer statistics of a graph, for `mcusplit inspect`.
//
// Which graph to use: compute_model_stats works on any Graph and reports it
// as it is. The two views differ only where batch norm and activations are
// folded:
//  - the imported graph (before run_standard_passes) has the parameter count
//    people quote (torchvision counts BN scale and shift: 3,504,872 for
//    MobileNetV2-1.0), but its BatchNormalization and Clip nodes are layers
//    of their own whose input+output inflates the peak;
//  - the passed graph has the layers later stages (quantizer, planner) see,
//    hence the per-layer table and the peak that matter for MCU RAM
//    (1,505,280 B for MobileNetV2-1.0@224).
// `mcusplit inspect` shows inspect_model_stats: the passed graph's layers,
// MACs and peak, with `params` taken from the imported graph.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/graph.h"

namespace mcusplit::model {

// One IR node.
struct LayerStats {
  std::string name, op;
  std::vector<Dims> input_shapes;  // non-constant inputs only
  Dims output_shape;               // first output
  // Trainable constants: Conv/Gemm/MatMul weights and biases, BatchNorm scale
  // and shift (not running mean/var), a constant Add operand (an exported
  // Linear's bias). Shapes, Clip bounds and the like are not parameters.
  int64_t params = 0;
  // Conv: output elements * (Cin/group) * kh * kw; Gemm/MatMul: M*N*K.
  // Everything else (Add, pools, BN) counts 0.
  int64_t macs = 0;
  // Non-constant input elements + output elements, one byte each in int8:
  // what a device must hold at once to run the layer unsplit.
  int64_t io_bytes_int8 = 0;
};

struct ModelStats {
  std::vector<LayerStats> layers;
  int64_t params = 0;  // sum over layers (a constant shared by two layers counts twice)
  int64_t macs = 0;
  int64_t peak_layer_io_bytes_int8 = 0;  // max over layers
};

// Statistics of `graph` as it stands. Needs every tensor shape (the importer
// infers them).
ModelStats compute_model_stats(const Graph& graph);

// What `mcusplit inspect` reports for an imported (unpassed) graph: layers,
// macs and peak of a copy run through run_standard_passes, params of
// `imported` (so the sum of layers[i].params, which has BN folded into conv
// biases, is smaller than params).
ModelStats inspect_model_stats(const Graph& imported);

}  // namespace mcusplit::model
