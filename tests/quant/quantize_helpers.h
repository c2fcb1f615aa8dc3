// Calibrate-and-quantize in one call for the quantizer and .mq tests.
#pragma once

#include <string>

#include "model/graph.h"
#include "quant/calibration.h"
#include "quant/qgraph.h"
#include "quant/quantizer.h"

namespace mcusplit::quant_test {

inline quant::QGraph quantize_with_random(const model::Graph& g, int64_t samples = 8,
                                          uint64_t seed = 3) {
  quant::CalibrationInputOptions inputs;
  inputs.seed = seed;
  auto source = quant::open_calibration_source(
      "random", g.tensors[static_cast<size_t>(g.inputs[0])].shape, inputs);
  quant::CalibrationOptions options;
  options.samples = samples;
  const quant::Calibration c = quant::calibrate(g, *source, options);
  return quant::quantize_graph(g, c.ranges, "test.onnx");
}

}  // namespace mcusplit::quant_test
