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
// (3x3: 64, the most decoded requantization is kept for). Both bound the
// scratch; filters too large for 4 channels take the plain kernel.
constexpr int32_t kWeightBytes = 1024;
constexpr int32_t kMaxBlock = 64;

struct Acc4 {
  int32_t a0, a1, a2, a3;
};

// One tap of 4 channels: input and weight bytes in channel order, unpacked to
// lanes (c0, c2) and (c1, c3).
inline void tap4(uint32_t ve, uint32_t vo, uint32_t wv, Acc4& acc) {
  const uint32_t we = packed::sxtb16(wv);
  const uint32_t wo = packed::sxtb16_odd(wv);
  acc.a0 = packed::smlabb(ve, we, acc.a0);
  acc.a1 = packed::smlabb(vo, wo, acc.a1);
  acc.a2 = packed::smlatt(ve, we, acc.a2);
  acc.a3 = packed::smlatt(vo, wo, acc.a3);
}

// A whole window (no padding) with the input offset folded into the start
// value: sum (x + o) * w = sum x * w + o * sum w, so no SADD16 per tap. The
// common 3-wide filter row is unrolled.
inline void window4_full(const int8_t* src, const int8_t* w, int32_t kernel_h, int32_t kernel_w,
                         int32_t step_y, int32_t step_x, int32_t w_step, Acc4& acc) {
  for (int32_t ky = 0; ky < kernel_h; ++ky, src += step_y) {
    if (kernel_w == 3) {
      const uint32_t v0 = packed::load_s8x4(src);
      tap4(packed::sxtb16(v0), packed::sxtb16_odd(v0), packed::load_s8x4(w), acc);
      const uint32_t v1 = packed::load_s8x4(src + step_x);
      tap4(packed::sxtb16(v1), packed::sxtb16_odd(v1), packed::load_s8x4(w + w_step), acc);
      const uint32_t v2 = packed::load_s8x4(src + 2 * step_x);
      tap4(packed::sxtb16(v2), packed::sxtb16_odd(v2), packed::load_s8x4(w + 2 * w_step), acc);
      w += 3 * w_step;
      continue;
    }
    const int8_t* s = src;
    for (int32_t kx = 0; kx < kernel_w; ++kx, s += step_x, w += w_step) {
      const uint32_t v = packed::load_s8x4(s);
      tap4(packed::sxtb16(v), packed::sxtb16_odd(v), packed::load_s8x4(w), acc);
    }
  }
}

// Channels per block; below 4 (or with a depth multiplier: neighbouring
// outputs then do not read neighbouring inputs) the plain kernel runs.
int32_t block_channels(const Int8ConvParams& p) {
  if (p.output.c != p.input.c) return 0;
  return core::min_i32(kMaxBlock, kWeightBytes / (p.kernel_h * p.kernel_w)) &
         ~(kDepthwiseChannelGroup - 1);
}

}  // namespace

int32_t int8_depthwise_conv_packed_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  if (out_box.empty() || !is_depthwise_conv(p) || !valid_conv_geometry(p)) return 0;
  const int32_t max_block = block_channels(p);
  if (max_block < 4) return int8_depthwise_conv_plain_scratch_bytes(p, out_box);
  const int32_t block = core::min_i32(max_block, out_box.channels());
  return scratch_array_bytes<int8_t>(p.kernel_h * p.kernel_w * block) +
         2 * scratch_array_bytes<int32_t>(block) + scratch_array_bytes<ChannelRequant>(block);
}

KernelStatus int8_depthwise_conv_packed(const Int8ConvParams& p, const InputTile& in,
                                        const OutputTile& out, Scratch scratch) {
  if (!is_depthwise_conv(p)) return KernelStatus::BadParams;
  const KernelStatus status = validate_conv(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;
  const int32_t taps = p.kernel_h * p.kernel_w;
  const int32_t max_block = block_channels(p);
  if (max_block < 4) return int8_depthwise_conv_plain(p, in, out, scratch);
  if (!scratch_fits(scratch, int8_depthwise_conv_packed_scratch_bytes(p, out.box))) {
    return KernelStatus::BadParams;
  }

  const ResolvedStrides os = resolve_strides(out);
  const int32_t in_pixel = in.box.channels();
  const int32_t in_row = in.box.width() * in_pixel;
  const int32_t input_offset = -p.input_zero_point;
  const uint32_t offsets = packed::splat16(input_offset);
  const int32_t tap_step_x = p.dilation_w * in_pixel;
  const int32_t tap_step_y = p.dilation_h * in_row;
  const OutputStage stage{p.requant.multiplier, p.requant.shift, p.output_zero_point, p.activation};
  const int32_t* const bias = p.bias;

  // Carved in the order int8_depthwise_conv_packed_scratch_bytes counts them.
  const int32_t scratch_block = core::min_i32(max_block, out.box.channels());
  ScratchCarver carver(scratch);
  int8_t* const regrouped = carver.carve<int8_t>(taps * scratch_block);
  int32_t* const block_bias = carver.carve<int32_t>(scratch_block);
  int32_t* const folded_bias = carver.carve<int32_t>(scratch_block);  // bias + offset * sum w
  ChannelRequant* const requant = carver.carve<ChannelRequant>(scratch_block);
  for (int32_t block_c0 = out.box.c0; block_c0 < out.box.c1; block_c0 += max_block) {
    const int32_t block = core::min_i32(max_block, out.box.c1 - block_c0);
    const int32_t first_slot = block_c0 - p.weights_c0;
    for (int32_t j = 0; j < block; ++j) {
      const int8_t* filter = p.weights + (first_slot + j) * taps;
      int32_t weight_sum = 0;
      for (int32_t t = 0; t < taps; ++t) {
        regrouped[t * block + j] = filter[t];
        weight_sum += filter[t];
      }
      block_bias[j] = bias != nullptr ? bias[first_slot + j] : 0;
      folded_bias[j] = block_bias[j] + input_offset * weight_sum;
    }
    stage.decode(first_slot, block, requant);
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
        const bool full = ky_range.end - ky_range.begin == p.kernel_h &&
                          kx_range.end - kx_range.begin == p.kernel_w;

        int32_t j = 0;
        for (; full && j + 4 <= block; j += 4) {
          Acc4 acc{folded_bias[j], folded_bias[j + 1], folded_bias[j + 2], folded_bias[j + 3]};
          window4_full(in.data + window + j, regrouped + j, p.kernel_h, p.kernel_w, tap_step_y,
                       tap_step_x, block, acc);
          dst[j] = stage(acc.a0, requant[j]);
          dst[j + 1] = stage(acc.a1, requant[j + 1]);
          dst[j + 2] = stage(acc.a2, requant[j + 2]);
          dst[j + 3] = stage(acc.a3, requant[j + 3]);
        }
        for (; j + 4 <= block; j += 4) {
          Acc4 acc{block_bias[j], block_bias[j + 1], block_bias[j + 2], block_bias[j + 3]};
          for (int32_t ky = ky_range.begin; any && ky < ky_range.end; ++ky) {
            const int8_t* src = in.data + window + (ky - ky_range.begin) * tap_step_y + j;
            const int8_t* w = regrouped + (ky * p.kernel_w + kx_range.begin) * block + j;
            for (int32_t kx = kx_range.begin; kx < kx_range.end; ++kx) {
              const uint32_t v = packed::load_s8x4(src);
              tap4(packed::sadd16(packed::sxtb16(v), offsets),
                   packed::sadd16(packed::sxtb16_odd(v), offsets), packed::load_s8x4(w), acc);
              src += tap_step_x;
              w += block;
            }
          }
          dst[j] = stage(acc.a0, requant[j]);
          dst[j + 1] = stage(acc.a1, requant[j + 1]);
          dst[j + 2] = stage(acc.a2, requant[j + 2]);
          dst[j + 3] = stage(acc.a3, requant[j + 3]);
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
          dst[j] = stage(acc, requant[j]);
        }
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
