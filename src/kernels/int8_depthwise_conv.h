// int8 depthwise convolution (groups == Cin, depth multiplier Cout / Cin)
// over boxes. Shares Int8ConvParams, its weight layout ([Cout][kh][kw]) and
// required_input_box with int8_conv.h.
#pragma once

#include "kernels/int8_conv.h"

namespace mcusplit::kernels {

bool is_depthwise_conv(const Int8ConvParams& p);

// BadParams unless is_depthwise_conv(p); otherwise bit-identical to int8_conv.
KernelStatus int8_depthwise_conv(const Int8ConvParams& p, const InputTile& in,
                                 const OutputTile& out);

}  // namespace mcusplit::kernels
