// Picks the fastest int8 convolution variant that applies (CMSIS-NN style
// wrapper). All variants give identical results.
#pragma once

#include "kernels/int8_conv.h"

namespace mcusplit::kernels {

enum class ConvVariant : int32_t { General, Depthwise, Pointwise };

ConvVariant select_conv_variant(const Int8ConvParams& p);

KernelStatus int8_conv_dispatch(const Int8ConvParams& p, const InputTile& in,
                                const OutputTile& out);

}  // namespace mcusplit::kernels
