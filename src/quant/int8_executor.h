// Runs a QGraph on one device inside one static arena planned ahead of time
// (arena_plan.h): the arena is allocated once, at construction, with exactly
// plan().arena_bytes() bytes (or supplied by the caller), kernel parameters
// are bound once, and run() allocates nothing but its returned vector.
//
// The single-device oracle: every split execution must match its output bit
// for bit. Kernels run on whole tensors (full boxes); a non-Ok kernel status
// throws mcusplit::Error naming the layer.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/arena_plan.h"
#include "quant/qgraph.h"

namespace mcusplit::quant {

class Int8Executor {
 public:
  // Owns an arena of exactly plan().arena_bytes(). `graph` must outlive the
  // executor: the bound kernel parameters point into its weight vectors.
  // Throws mcusplit::Error if the graph is malformed.
  explicit Int8Executor(const QGraph& graph);
  // Runs in a caller-provided arena of at least plan().arena_bytes() bytes
  // (e.g. a static array on an MCU build, or a guarded buffer in tests).
  Int8Executor(const QGraph& graph, int8_t* arena, int64_t arena_capacity);

  Int8Executor(const Int8Executor&) = delete;
  Int8Executor& operator=(const Int8Executor&) = delete;

  const ArenaPlan& plan() const { return plan_; }
  int64_t arena_bytes() const { return plan_.arena_bytes(); }
  // Measured: the highest arena byte (exclusive end offset) of any buffer the
  // last run() wrote, taken from the pointers and extents actually handed to
  // the kernels and copies. 0 before the first run.
  int64_t high_water_bytes() const { return high_water_; }

  // input: the int8 NHWC graph input (tensors[input].bytes() values); writes
  // the int8 NHWC output to `output` (tensors[output].bytes() values).
  void run(const int8_t* input, int8_t* output);
  std::vector<int8_t> run(const std::vector<int8_t>& input_nhwc);
  // Float NCHW in, float in the ONNX output order out (quantize_input and
  // dequantize_output of qgraph.h around run()).
  std::vector<float> run_float(const std::vector<float>& input_nchw);

  const QGraph& graph() const { return graph_; }

 private:
  void bind_layers();
  int8_t* tensor_data(int tensor);
  void note_written(const int8_t* begin, int64_t bytes);
  void run_layer(size_t index);

  const QGraph& graph_;
  ArenaPlan plan_;
  std::vector<int8_t> owned_arena_;
  int8_t* arena_ = nullptr;
  int64_t arena_capacity_ = 0;
  // Each layer's parameters with the constant pointers bound to its vectors.
  std::vector<kernels::OpParams> bound_;
  std::vector<kernels::InputTile> input_tiles_;  // reused by every layer
  int64_t high_water_ = 0;
};

}  // namespace mcusplit::quant
