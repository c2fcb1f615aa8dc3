// int8 depthwise convolution (groups == Cin, depth multiplier Cout / Cin)
// over boxes. Shares Int8ConvParams, its weight layout ([Cout][kh][kw]) and
// required_input_box with int8_conv.h.
#pragma once

#include "kernels/int8_conv.h"

namespace mcusplit::kernels {

bool is_depthwise_conv(const Int8ConvParams& p);

// BadParams unless is_depthwise_conv(p); otherwise bit-identical to int8_conv.
// With the DSP extension (__ARM_FEATURE_DSP) this is
// int8_depthwise_conv_packed, else int8_depthwise_conv_plain.
KernelStatus int8_depthwise_conv(const Int8ConvParams& p, const InputTile& in,
                                 const OutputTile& out);

// Scalar loops, one output channel at a time.
KernelStatus int8_depthwise_conv_plain(const Int8ConvParams& p, const InputTile& in,
                                       const OutputTile& out);

// The same results computed four channels at a time with 16-bit lane
// multiplies (int8_packed.h; portable emulation elsewhere, so the host tests
// it). Depth multipliers other than 1 and filters over 256 taps take
// int8_depthwise_conv_plain.
KernelStatus int8_depthwise_conv_packed(const Int8ConvParams& p, const InputTile& in,
                                        const OutputTile& out);

}  // namespace mcusplit::kernels
