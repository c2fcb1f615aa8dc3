#include "kernels/int8_depthwise_conv.h"

namespace mcusplit::kernels {

bool is_depthwise_conv(const Int8ConvParams& p) {
  return p.input.c > 0 && p.groups == p.input.c && p.output.c % p.input.c == 0;
}

int32_t int8_depthwise_conv_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  return core::max_i32(int8_depthwise_conv_plain_scratch_bytes(p, out_box),
                       int8_depthwise_conv_packed_scratch_bytes(p, out_box));
}

KernelStatus int8_depthwise_conv(const Int8ConvParams& p, const InputTile& in,
                                 const OutputTile& out, Scratch scratch) {
  // Holds the caller to the stated need (both variants'), so scratch sized
  // on one build fits on every other.
  if (!scratch_fits(scratch, int8_depthwise_conv_scratch_bytes(p, out.box)))
    return KernelStatus::BadParams;
#if defined(__ARM_FEATURE_DSP)
  return int8_depthwise_conv_packed(p, in, out, scratch);
#else
  return int8_depthwise_conv_plain(p, in, out, scratch);
#endif
}

int32_t int8_depthwise_conv_plain_scratch_bytes(const Int8ConvParams& /*p*/,
                                                const Box& /*out_box*/) {
  return 0;
}

KernelStatus int8_depthwise_conv_plain(const Int8ConvParams& p, const InputTile& in,
                                       const OutputTile& out, Scratch /*scratch*/) {
  if (!is_depthwise_conv(p)) return KernelStatus::BadParams;
  const KernelStatus status = validate_conv(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;

  const ResolvedStrides os = resolve_strides(out);
  const int32_t multiplier = p.output.c / p.input.c;
  const int32_t in_pixel = in.box.channels();
  const int32_t in_row = in.box.width() * in_pixel;
  const int32_t taps = p.kernel_h * p.kernel_w;
  const int32_t input_offset = -p.input_zero_point;
  const int32_t tap_step_x = p.dilation_w * in_pixel;

  for (int32_t oy = out.box.y0; oy < out.box.y1; ++oy) {
    const int32_t iy_origin = oy * p.stride_h - p.pad_top;
    const TapRange ky_range = valid_taps(iy_origin, p.input.h, p.kernel_h, p.dilation_h);
    for (int32_t ox = out.box.x0; ox < out.box.x1; ++ox) {
      const int32_t ix_origin = ox * p.stride_w - p.pad_left;
      const TapRange kx_range = valid_taps(ix_origin, p.input.w, p.kernel_w, p.dilation_w);
      // Tile offset of (first valid row, first valid column, channel in.box.c0);
      // kept as an integer so no pointer is formed before a tap is known valid.
      const int32_t first_iy = iy_origin + ky_range.begin * p.dilation_h;
      const int32_t first_ix = ix_origin + kx_range.begin * p.dilation_w;
      const int32_t window = (first_iy - in.box.y0) * in_row + (first_ix - in.box.x0) * in_pixel;
      int8_t* out_pixel = out.data + (oy - out.box.y0) * os.row + (ox - out.box.x0) * os.pixel;

      for (int32_t oc = out.box.c0; oc < out.box.c1; ++oc) {
        const int32_t slot = oc - p.weights_c0;
        const int8_t* filter = p.weights + slot * taps;
        const int32_t channel_window = window + oc / multiplier - in.box.c0;
        int32_t acc = p.bias != nullptr ? p.bias[slot] : 0;
        for (int32_t ky = ky_range.begin; ky < ky_range.end; ++ky) {
          const int8_t* src =
              in.data + channel_window + (ky - ky_range.begin) * p.dilation_h * in_row;
          const int8_t* w = filter + ky * p.kernel_w;
          for (int32_t kx = kx_range.begin; kx < kx_range.end; ++kx, src += tap_step_x) {
            acc += (static_cast<int32_t>(*src) + input_offset) * static_cast<int32_t>(w[kx]);
          }
        }
        out_pixel[oc - out.box.c0] =
            requantize(acc, p.requant.multiplier[slot], p.requant.shift[slot], p.output_zero_point,
                       p.activation);
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
