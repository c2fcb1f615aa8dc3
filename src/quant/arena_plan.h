// The static arena of a QGraph on one device: one buffer per activation
// tensor, with lifetimes from the layer order, placed by a MemoryPlanner.
//
// Lifetimes, in layer indices (inclusive): a tensor lives from the layer that
// produces it (the graph input: from layer 0) to its last consumer (the graph
// output: to the last layer). A layer's inputs and output are therefore live
// together and never share bytes, so no kernel runs in place.
//
// Reshape keeps the NHWC byte order (qgraph.h), so its output aliases its
// input: one buffer whose lifetime spans both tensors, and no copy.
//
// Each layer whose kernel states scratch (its operator record's
// scratch_bytes for the whole output) gets a scratch buffer live for its
// step only, as TFLM's per-op scratch requests do, so the arena is all the
// RAM inference needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/memory_planner.h"
#include "quant/qgraph.h"

namespace mcusplit::quant {

struct ArenaPlan {
  std::vector<BufferRequest> buffers;  // one per arena buffer
  BufferLayout layout;                 // offsets parallel to buffers
  std::vector<int> tensor_buffer;      // QTensor index -> buffer index
  std::vector<int> layer_scratch;      // layer index -> its scratch buffer, or -1
  int64_t alignment = 0;

  int64_t arena_bytes() const { return layout.arena_bytes; }
  int64_t tensor_offset(int tensor) const {
    return layout.offsets[static_cast<size_t>(tensor_buffer[static_cast<size_t>(tensor)])];
  }
  // The layer's kernel scratch in the arena (offset, bytes), or (0, 0).
  int64_t scratch_offset(int layer) const;
  int64_t scratch_bytes(int layer) const;
  // Buffers whose lifetime includes layer `step`.
  std::vector<int> live_buffers(int step) const;
};

// The buffer list of a QGraph (lifetimes and Reshape aliases as above).
// Throws mcusplit::Error on a malformed graph (bad tensor index, a tensor
// read before it is produced or produced twice, a Reshape changing size).
// The default planner is GreedyMemoryPlanner with 16-byte alignment.
ArenaPlan plan_arena(const QGraph& graph);
ArenaPlan plan_arena(const QGraph& graph, const MemoryPlanner& planner);

}  // namespace mcusplit::quant
