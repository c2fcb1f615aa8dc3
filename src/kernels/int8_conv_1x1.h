// int8 pointwise (1x1, stride 1, no padding, groups 1) convolution over
// boxes: per output pixel a dot product of the contiguous input channel
// vector with each filter row. Shares Int8ConvParams with int8_conv.h.
#pragma once

#include "kernels/int8_conv.h"

namespace mcusplit::kernels {

bool is_pointwise_conv(const Int8ConvParams& p);

// BadParams unless is_pointwise_conv(p); otherwise bit-identical to int8_conv.
// With the DSP extension (__ARM_FEATURE_DSP) this is int8_conv_1x1_packed.
KernelStatus int8_conv_1x1(const Int8ConvParams& p, const InputTile& in, const OutputTile& out);

// The same results computed with SMLAD on 16-bit pairs (int8_packed_dot.h);
// portable emulation of the instructions elsewhere, so the host tests it.
KernelStatus int8_conv_1x1_packed(const Int8ConvParams& p, const InputTile& in,
                                  const OutputTile& out);

}  // namespace mcusplit::kernels
