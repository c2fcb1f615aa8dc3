// int8 pointwise (1x1, stride 1, no padding, groups 1) convolution over
// boxes: per output pixel a dot product of the contiguous input channel
// vector with each filter row. Shares Int8ConvParams with int8_conv.h.
#pragma once

#include "kernels/int8_conv.h"

namespace mcusplit::kernels {

bool is_pointwise_conv(const Int8ConvParams& p);

// BadParams unless is_pointwise_conv(p); otherwise bit-identical to int8_conv.
// With the DSP extension (__ARM_FEATURE_DSP) this is int8_conv_1x1_packed,
// else the scalar kernel, whose scratch is B = min(32, out_box channels)
// folded offsets: 4 * B bytes. Takes a Scratch of *_scratch_bytes(p,
// out.box) bytes (int8_common.h): the larger need of the two variants, so a
// plan made on any host sizes scratch that fits the kernel every core runs.
int32_t int8_conv_1x1_scratch_bytes(const Int8ConvParams& p, const Box& out_box);
KernelStatus int8_conv_1x1(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                           Scratch scratch);

// The same results computed with SMLAD on 16-bit pairs (int8_packed_dot.h);
// portable emulation of the instructions elsewhere, so the host tests it.
// Scratch, with Cin expanded in chunks of 256 channels and
// B = min(32, out_box channels): 8 * W (2 expanded columns of
// W = max(column_words(min(256, Cin)), column_words(last chunk)) words,
// 2 * Cin + 6 below 256 channels, 1032 above) + 8 * B (accumulators of 2 pixels) + 20 * B (decoded
// requantization). 0 for an empty out_box.
int32_t int8_conv_1x1_packed_scratch_bytes(const Int8ConvParams& p, const Box& out_box);
KernelStatus int8_conv_1x1_packed(const Int8ConvParams& p, const InputTile& in,
                                  const OutputTile& out, Scratch scratch);

}  // namespace mcusplit::kernels
