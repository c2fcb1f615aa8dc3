// Picks the fastest int8 convolution variant that applies (CMSIS-NN style
// wrapper). All variants give identical results.
#pragma once

#include "kernels/int8_conv.h"

namespace mcusplit::kernels {

enum class ConvVariant : int32_t { General, Depthwise, Pointwise };

ConvVariant select_conv_variant(const Int8ConvParams& p);

// The scratch of the variant select_conv_variant(p) picks (int8_common.h):
// enough for int8_conv_dispatch(p, in, out, ...) with out.box = out_box.
int32_t int8_conv_dispatch_scratch_bytes(const Int8ConvParams& p, const Box& out_box);

KernelStatus int8_conv_dispatch(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                                Scratch scratch);

}  // namespace mcusplit::kernels
