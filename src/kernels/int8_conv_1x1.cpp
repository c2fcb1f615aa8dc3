#include "kernels/int8_conv_1x1.h"

namespace mcusplit::kernels {

bool is_pointwise_conv(const Int8ConvParams& p) {
  return p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
         p.pad_top == 0 && p.pad_left == 0 && p.groups == 1 && p.input.h == p.output.h &&
         p.input.w == p.output.w;
}

namespace {

// Output channels per pass: their folded offsets live in the scratch.
constexpr int32_t kChannelBlock = 32;

int32_t conv_1x1_plain_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  if (out_box.empty() || !is_pointwise_conv(p) || !valid_conv_geometry(p)) return 0;
  return scratch_array_bytes<int32_t>(core::min_i32(kChannelBlock, out_box.channels()));
}

}  // namespace

#if !defined(__ARM_FEATURE_DSP)

namespace {

KernelStatus conv_1x1_plain(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                            Scratch scratch) {
  if (!is_pointwise_conv(p)) return KernelStatus::BadParams;
  const KernelStatus status = validate_conv(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;
  if (!scratch_fits(scratch, conv_1x1_plain_scratch_bytes(p, out.box))) {
    return KernelStatus::BadParams;
  }

  const ResolvedStrides os = resolve_strides(out);
  const int32_t depth = p.input.c;  // the required box spans all channels, so in.box does too
  const int32_t in_row = in.box.width() * depth;

  // sum_k (in_k - zp) * w_k = sum_k in_k * w_k - zp * sum_k w_k: fold the
  // zero-point term and the bias into one constant per output channel.
  ScratchCarver carver(scratch);
  int32_t* const folded = carver.carve<int32_t>(core::min_i32(kChannelBlock, out.box.channels()));
  for (int32_t block_c0 = out.box.c0; block_c0 < out.box.c1; block_c0 += kChannelBlock) {
    const int32_t block_c1 = core::min_i32(block_c0 + kChannelBlock, out.box.c1);
    for (int32_t oc = block_c0; oc < block_c1; ++oc) {
      const int32_t slot = oc - p.weights_c0;
      const int8_t* filter = p.weights + slot * depth;
      int32_t weight_sum = 0;
      for (int32_t k = 0; k < depth; ++k) weight_sum += filter[k];
      folded[oc - block_c0] =
          (p.bias != nullptr ? p.bias[slot] : 0) - p.input_zero_point * weight_sum;
    }
    for (int32_t y = out.box.y0; y < out.box.y1; ++y) {
      const int8_t* in_pixel =
          in.data + (y - in.box.y0) * in_row + (out.box.x0 - in.box.x0) * depth;
      int8_t* out_pixel = out.data + (y - out.box.y0) * os.row + (block_c0 - out.box.c0);
      for (int32_t x = out.box.x0; x < out.box.x1; ++x) {
        for (int32_t oc = block_c0; oc < block_c1; ++oc) {
          const int32_t slot = oc - p.weights_c0;
          const int32_t acc =
              folded[oc - block_c0] + dot_s8(in_pixel, p.weights + slot * depth, depth);
          out_pixel[oc - block_c0] =
              requantize(acc, p.requant.multiplier[slot], p.requant.shift[slot],
                         p.output_zero_point, p.activation);
        }
        in_pixel += depth;
        out_pixel += os.pixel;
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace

#endif

int32_t int8_conv_1x1_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  return core::max_i32(conv_1x1_plain_scratch_bytes(p, out_box),
                       int8_conv_1x1_packed_scratch_bytes(p, out_box));
}

KernelStatus int8_conv_1x1(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                           Scratch scratch) {
  // Holds the caller to the stated need (both variants'), so scratch sized
  // on one build fits on every other.
  if (!scratch_fits(scratch, int8_conv_1x1_scratch_bytes(p, out.box)))
    return KernelStatus::BadParams;
#if defined(__ARM_FEATURE_DSP)
  return int8_conv_1x1_packed(p, in, out, scratch);
#else
  return conv_1x1_plain(p, in, out, scratch);
#endif
}

}  // namespace mcusplit::kernels
