// int8 depthwise convolution (groups == Cin, depth multiplier Cout / Cin)
// over boxes. Shares Int8ConvParams, its weight layout ([Cout][kh][kw]) and
// required_input_box with int8_conv.h.
#pragma once

#include "kernels/int8_conv.h"

namespace mcusplit::kernels {

bool is_depthwise_conv(const Int8ConvParams& p);

// Every kernel takes a Scratch (int8_common.h) of at least its
// *_scratch_bytes(p, out.box) bytes, else it returns BadParams.

// BadParams unless is_depthwise_conv(p); otherwise bit-identical to int8_conv.
// With the DSP extension (__ARM_FEATURE_DSP) this is
// int8_depthwise_conv_packed, else int8_depthwise_conv_plain. Its scratch
// size is the larger need of the two (a plan made on any host fits both).
int32_t int8_depthwise_conv_scratch_bytes(const Int8ConvParams& p, const Box& out_box);
KernelStatus int8_depthwise_conv(const Int8ConvParams& p, const InputTile& in,
                                 const OutputTile& out, Scratch scratch);

// Scalar loops, one output channel at a time. Needs no scratch (states 0).
int32_t int8_depthwise_conv_plain_scratch_bytes(const Int8ConvParams& p, const Box& out_box);
KernelStatus int8_depthwise_conv_plain(const Int8ConvParams& p, const InputTile& in,
                                       const OutputTile& out, Scratch scratch);

// Channels the packed kernel computes together: a box whose channel count is
// a multiple of it runs on the packed path throughout; each channel beyond
// the last whole group runs one at a time (measured on the emulated M7: a
// 7-channel box took 1.6 times a 4-channel-group box's instructions per
// output). Channel splits of depthwise layers (plan/partition.h) keep to it.
inline constexpr int32_t kDepthwiseChannelGroup = 4;

// The same results computed four channels at a time with 16-bit lane
// multiplies (int8_packed.h; portable emulation elsewhere, so the host tests
// it). Depth multipliers other than 1 and filters over 256 taps take
// int8_depthwise_conv_plain (0 scratch). Otherwise, with T = kernel_h *
// kernel_w taps and B = min(64, 1024 / T rounded down to a multiple of 4,
// out_box channels) channels per block: T * B regrouped weight bytes
// (rounded up to 4) + 4 * B bias + 4 * B folded bias + 20 * B decoded
// requantization (3x3, 64 channels: 2368 bytes).
int32_t int8_depthwise_conv_packed_scratch_bytes(const Int8ConvParams& p, const Box& out_box);
KernelStatus int8_depthwise_conv_packed(const Int8ConvParams& p, const InputTile& in,
                                        const OutputTile& out, Scratch scratch);

}  // namespace mcusplit::kernels
