// int8 2-D convolution (TFLite int8 spec) over boxes: the general kernel,
// also the shared parameter block, validation and receptive field of the
// depthwise and 1x1 variants (int8_depthwise_conv.h, int8_conv_1x1.h) and the
// dispatcher (int8_conv_dispatch.h).
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

// Weights, bias and requantization arrays hold output channels
// [weights_c0, weights_c1) and each pointer addresses channel weights_c0, so a
// device that stores only its slice of the kernels passes its slice. The
// kernel indexes them with (oc - weights_c0).
//
// Weight layout, every variant: OHWI, [Cout][kernel_h][kernel_w][Cin/groups].
// Depthwise (groups == Cin, Cout = Cin * multiplier) is therefore
// [Cout][kernel_h][kernel_w], i.e. each channel's taps contiguous, the same
// order as ONNX's [Cout][1][kh][kw]. Output channel oc reads group
// oc / (Cout/groups); with a depth multiplier m that is input channel oc / m.
struct Int8ConvParams {
  TensorShape3 input;   // the full input tensor
  TensorShape3 output;  // the full output tensor
  int32_t kernel_h = 1;
  int32_t kernel_w = 1;
  int32_t stride_h = 1;
  int32_t stride_w = 1;
  int32_t dilation_h = 1;
  int32_t dilation_w = 1;
  // Bottom/right padding only shows in the output dims: positions outside
  // [0,H) x [0,W) are padding and contribute nothing (as input == zero point).
  int32_t pad_top = 0;
  int32_t pad_left = 0;
  int32_t groups = 1;
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  ActivationRange activation;
  const int8_t* weights = nullptr;
  const int32_t* bias = nullptr;  // optional; scale input_scale * weight_scale[oc]
  core::PerChannelRequant requant;
  int32_t weights_c0 = 0;
  int32_t weights_c1 = 0;
  friend bool operator==(const Int8ConvParams&, const Int8ConvParams&) = default;
};

// Output channels the packed convolution kernels (general and pointwise)
// compute together: pairs, against two pixels at a time (int8_packed_dot.h
// mac_2x2); a box with an odd channel count computes its last channel alone
// (measured on the emulated M7: a 1-channel pointwise box took 1.9 times the
// instructions per MAC its kernel's fit predicts). Channel splits of
// convolutions (plan/partition.h) keep to it.
inline constexpr int32_t kConvChannelGroup = 2;

// The smallest input box needed to compute out_box: all input channels of the
// groups that out_box's channels belong to, and the span of rows/columns its
// windows actually read (padding excluded). Empty if nothing is read.
Box required_input_box(const Int8ConvParams& p, const Box& out_box);

// Parameter checks shared by all variants (no tiles): the geometry (shapes,
// window, groups, zero points, activation), then the bound constants (weight
// channel range and pointers). The *_scratch_bytes twins look at the geometry only, as
// CMSIS-NN's get_buffer_size does, so a planner can ask before any constant
// is bound; they state 0 for a geometry that fails, and the kernel then
// reports BadParams.
bool valid_conv_params(const Int8ConvParams& p);
bool valid_conv_geometry(const Int8ConvParams& p);

// Checks shared by all variants: params, boxes inside their tensors, channels
// inside the weight slice, output strides, then that the input tile covers
// the required box (InputBoxTooSmall).
KernelStatus validate_conv(const Int8ConvParams& p, const InputTile& in, const OutputTile& out);

// Every kernel takes a caller-owned Scratch (int8_common.h) of at least its
// *_scratch_bytes(p, out.box) bytes, else it returns BadParams.

// out = clamp(MBQM(bias + sum (in - in_zp) * w) + out_zp) for every element of
// out.box, reading only positions inside in.box. Any groups, strides,
// dilations, padding. With the DSP extension (__ARM_FEATURE_DSP) this is
// int8_conv_packed, else int8_conv_plain. Its scratch size is the larger
// need of the two (a plan made on any host fits both).
int32_t int8_conv_scratch_bytes(const Int8ConvParams& p, const Box& out_box);
KernelStatus int8_conv(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                       Scratch scratch);

// Scalar loops over contiguous window rows. Needs no scratch (states 0).
int32_t int8_conv_plain_scratch_bytes(const Int8ConvParams& p, const Box& out_box);
KernelStatus int8_conv_plain(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                             Scratch scratch);

// The same results computed with SMLAD on 16-bit pairs over gathered windows
// (int8_packed_dot.h; portable emulation of the instructions elsewhere, so
// the host tests it); filters over 512 taps take int8_conv_plain (0 scratch).
// Scratch, with T = kernel_h * kernel_w * Cin/groups taps and
// B = min(32, Cout/groups, out_box channels) channels per block, each term
// rounded up to 4 bytes:
//   2 expanded columns   8 * column_words(T)   (2 * T + 8 at most)
//   bias, requant        B * 4 + B * sizeof(ChannelRequant) (20)
//   gathered window      T rounded up to 4
//   padded weights       only if T % 4 == 3: min(B, 1024 / (T + 1)) * (T + 1)
// 0 for an empty out_box.
int32_t int8_conv_packed_scratch_bytes(const Int8ConvParams& p, const Box& out_box);
KernelStatus int8_conv_packed(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                              Scratch scratch);

}  // namespace mcusplit::kernels
