// Calibration: runs the float graph on sample inputs and records the range
// of every activation tensor, which the quantizer turns into int8 scales.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/graph.h"
#include "quant/calibration_source.h"
#include "quant/tensor_range.h"

namespace mcusplit::quant {

struct CalibrationOptions {
  int64_t samples = 100;      // at most this many inputs (fewer if the source runs out)
  double percentile = 100.0;  // (0, 100]; see RangeRecorder
  // Called after each sample with (done, samples); e.g. a progress bar.
  std::function<void(int64_t, int64_t)> progress;
};

struct Calibration {
  // By graph tensor index: the graph input and every node output. Constants
  // (weights) have none.
  std::vector<TensorRange> ranges;
  int64_t samples = 0;         // inputs run
  int64_t skipped_inputs = 0;  // files the source passed over
  std::string source;          // the source's description
};

// `graph` has had model::run_standard_passes. Throws mcusplit::Error (exit
// code 2) when the graph does not have exactly one input and one output, the
// input batch is not 1, the source yields no usable input, a tensor takes a
// non-finite value, or a tensor is constant over all samples (min == max, e.g.
// all zeros): such a range has no scale, and the message names the tensor.
Calibration calibrate(const model::Graph& graph, CalibrationSource& source,
                      const CalibrationOptions& options);

// Checks the one-input, one-output, batch-1 shape calibration and int8 need.
void check_single_input_output(const model::Graph& graph);

}  // namespace mcusplit::quant
