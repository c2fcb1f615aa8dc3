// The depthwise kernel formulated for the DSP extension (int8_packed.h):
// channels innermost, four at a time. NHWC puts the 4 channels of a tap in
// one word; their weights are regrouped per channel block into [tap][channel]
// so they are one word too. SXTB16 unpacks both into 16-bit lanes and
// SMLABB/SMLATT accumulate each channel separately (SMLAD would add
// neighbouring channels together).
#include "kernels/int8_depthwise_conv.h"
#include "kernels/int8_packed.h"

namespace mcusplit::kernels {

namespace {

// Bytes of regrouped weights: a channel block holds this / taps channels
// (3x3: 112). Filters too large for 4 channels take the plain kernel.
constexpr int32_t kWeightBytes = 1024;
constexpr int32_t kMaxBlock = 128;

}  // namespace

KernelStatus int8_depthwise_conv_packed(const Int8ConvParams& p, const InputTile& in,
                                        const OutputTile& out) {
  if (!is_depthwise_conv(p)) return KernelStatus::BadParams;
  const KernelStatus status = validate_conv(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;
  const int32_t taps = p.kernel_h * p.kernel_w;
  const int32_t max_block = core::min_i32(kMaxBlock, kWeightBytes / taps) & ~3;
  // With a depth multiplier, neighbouring outputs do not read neighbouring inputs.
  if (p.output.c != p.input.c || max_block < 4) return int8_depthwise_conv_plain(p, in, out);

  const ResolvedStrides os = resolve_strides(out);
  const int32_t in_pixel = in.box.channels();
  const int32_t in_row = in.box.width() * in_pixel;
  const int32_t input_offset = -p.input_zero_point;
  const uint32_t offsets = packed::splat16(input_offset);
  const int32_t tap_step_x = p.dilation_w * in_pixel;
  const int32_t tap_step_y = p.dilation_h * in_row;
  const OutputStage stage{p.requant.multiplier, p.requant.shift, p.output_zero_point, p.activation};
  const int32_t* const bias = p.bias;

  int8_t regrouped[kWeightBytes];
  int32_t block_bias[kMaxBlock];
  for (int32_t block_c0 = out.box.c0; block_c0 < out.box.c1; block_c0 += max_block) {
    const int32_t block = core::min_i32(max_block, out.box.c1 - block_c0);
    const int32_t first_slot = block_c0 - p.weights_c0;
    for (int32_t j = 0; j < block; ++j) {
      const int8_t* filter = p.weights + (first_slot + j) * taps;
      for (int32_t t = 0; t < taps; ++t) regrouped[t * block + j] = filter[t];
      block_bias[j] = bias != nullptr ? bias[first_slot + j] : 0;
    }
    // Channel block_c0 of input pixel (0, 0) of the tile: windows are offsets
    // from here, formed only for valid taps.
    const int32_t channel = block_c0 - in.box.c0;

    for (int32_t oy = out.box.y0; oy < out.box.y1; ++oy) {
      const int32_t iy_origin = oy * p.stride_h - p.pad_top;
      const TapRange ky_range = valid_taps(iy_origin, p.input.h, p.kernel_h, p.dilation_h);
      const int32_t first_iy = iy_origin + ky_range.begin * p.dilation_h;
      for (int32_t ox = out.box.x0; ox < out.box.x1; ++ox) {
        const int32_t ix_origin = ox * p.stride_w - p.pad_left;
        const TapRange kx_range = valid_taps(ix_origin, p.input.w, p.kernel_w, p.dilation_w);
        const int32_t first_ix = ix_origin + kx_range.begin * p.dilation_w;
        const int32_t window =
            (first_iy - in.box.y0) * in_row + (first_ix - in.box.x0) * in_pixel + channel;
        int8_t* dst = out.data + (oy - out.box.y0) * os.row + (ox - out.box.x0) * os.pixel +
                      (block_c0 - out.box.c0);
        const bool any = ky_range.begin < ky_range.end && kx_range.begin < kx_range.end;

        int32_t j = 0;
        for (; j + 4 <= block; j += 4) {
          int32_t a0 = block_bias[j], a1 = block_bias[j + 1];
          int32_t a2 = block_bias[j + 2], a3 = block_bias[j + 3];
          for (int32_t ky = ky_range.begin; any && ky < ky_range.end; ++ky) {
            const int8_t* src = in.data + window + (ky - ky_range.begin) * tap_step_y + j;
            const int8_t* w = regrouped + (ky * p.kernel_w + kx_range.begin) * block + j;
            for (int32_t kx = kx_range.begin; kx < kx_range.end; ++kx) {
              const uint32_t v = packed::load_s8x4(src);
              const uint32_t wv = packed::load_s8x4(w);
              const uint32_t ve = packed::sadd16(packed::sxtb16(v), offsets);
              const uint32_t vo = packed::sadd16(packed::sxtb16_odd(v), offsets);
              const uint32_t we = packed::sxtb16(wv);
              const uint32_t wo = packed::sxtb16_odd(wv);
              a0 = packed::smlabb(ve, we, a0);
              a1 = packed::smlabb(vo, wo, a1);
              a2 = packed::smlatt(ve, we, a2);
              a3 = packed::smlatt(vo, wo, a3);
              src += tap_step_x;
              w += block;
            }
          }
          dst[j] = stage(a0, first_slot + j);
          dst[j + 1] = stage(a1, first_slot + j + 1);
          dst[j + 2] = stage(a2, first_slot + j + 2);
          dst[j + 3] = stage(a3, first_slot + j + 3);
        }
        for (; j < block; ++j) {
          int32_t acc = block_bias[j];
          for (int32_t ky = ky_range.begin; any && ky < ky_range.end; ++ky) {
            const int8_t* src = in.data + window + (ky - ky_range.begin) * tap_step_y + j;
            const int8_t* w = regrouped + (ky * p.kernel_w + kx_range.begin) * block + j;
            for (int32_t kx = kx_range.begin; kx < kx_range.end; ++kx) {
              acc += (*src + input_offset) * *w;
              src += tap_step_x;
              w += block;
            }
          }
          dst[j] = stage(acc, first_slot + j);
        }
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
