// int8 depthwise convolution written over its own input (MCUNetV2's in-place
// depthwise): with one output channel per input channel, output channel c
// reads input channel c only, so once channel c is computed into a
// one-channel plane of scratch its input is dead and the plane can go where
// the output's channel c lies, even inside the input's bytes. The layer then
// needs its input plus a plane, not its input plus its output.
#pragma once

#include "kernels/int8_depthwise_conv.h"

namespace mcusplit::kernels {

// The parameters can run in place: depthwise (more than one group) with a
// depth multiplier of 1.
bool can_run_depthwise_in_place(const Int8ConvParams& p);

// One output plane of out_box (its height x width, rounded up to 4) plus the
// depthwise kernel's scratch for one channel of it; 0 for an empty box or
// parameters that cannot run in place.
int32_t int8_depthwise_conv_in_place_scratch_bytes(const Int8ConvParams& p, const Box& out_box);

// Bit-identical to int8_depthwise_conv. `out` may overlap `in` when both
// hold the same channels at the same pixel stride, and `out` lies within
// `in`'s bytes from the same first byte or not at all; then each channel's
// output lands only on bytes of the same channel of the input, which is
// dead by then. BadParams for parameters that cannot run in place, boxes
// with other channels, or too little scratch.
KernelStatus int8_depthwise_conv_in_place(const Int8ConvParams& p, const InputTile& in,
                                          const OutputTile& out, Scratch scratch);

}  // namespace mcusplit::kernels
