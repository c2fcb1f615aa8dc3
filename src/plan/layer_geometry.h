// What a box of a layer's output costs and needs: the input box each input
// must supply (the kernels' receptive fields), the multiply-accumulates, the
// cost model's work units, the kernel scratch, and the flash bytes of a
// channel slice.
#pragma once

#include <cstdint>

#include "core/box.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// The box of input `input_index` that layer `layer` reads to compute
// `out_box` of its output (empty if it reads nothing, e.g. a concat input
// that does not land in the box). Reshape keeps the NHWC element order, so
// an output box needs the input rows that hold its first to last element.
core::Box required_box(const quant::QGraph& graph, const quant::QLayer& layer, int input_index,
                       const core::Box& out_box);

// The input values layer `layer` reads to compute `out_box`: its
// required_box of every input, summed.
int64_t box_input_values(const quant::QGraph& graph, const quant::QLayer& layer,
                         const core::Box& out_box);

// Multiply-accumulates of `out_box` (conv and fully connected; 0 otherwise).
int64_t box_macs(const quant::QLayer& layer, const core::Box& out_box);

// The cost model's measure of compute: MACs, and for layers without MACs one
// unit per value read or written (elementwise, pooling windows, copies), so
// that they are not free.
int64_t box_work(const quant::QLayer& layer, const core::Box& out_box);
// The cost model's work units of a local Copy of `bytes`: one per byte read
// and one per byte written, as a Reshape's.
inline int64_t copy_work(int64_t bytes) {
  return 2 * bytes;
}

// Bytes of kernel scratch computing `out_box` needs (the operator record's
// scratch_bytes; 0 for an empty box).
int64_t box_scratch_bytes(const quant::QLayer& layer, const core::Box& out_box);

// True for layers whose constants are sliced by output channel (conv, FC).
bool has_channel_constants(const quant::QLayer& layer);

// Flash bytes of output channels [c0, c1) of the layer's constants: weight
// rows, bias, per-channel requantization (a per-tensor requantization pair
// is kept whole).
int64_t slice_constant_bytes(const quant::QLayer& layer, int32_t c0, int32_t c1);

}  // namespace mcusplit::plan
