// The general convolution formulated for the DSP extension
// (int8_packed_dot.h): per pair of output pixels, each window is gathered
// into an int8 column (padding taps hold the input zero point, so they add
// exactly 0 once the offset is applied) and expanded once to int16; the pair
// of columns then meets pairs of output channels' filters.
#include "kernels/int8_conv.h"
#include "kernels/int8_packed_dot.h"

namespace mcusplit::kernels {

namespace {

// Taps (kernel_h * kernel_w * input channels per group) a column may hold:
// 2.5 KiB of stack. Larger filters take the plain kernel.
constexpr int32_t kMaxTaps = 512;

// Small runs (a window row is a few to a few hundred bytes): inline word
// copies instead of calls into the C library, whose set-up costs more than
// the copy (GCC would turn these loops back into memcpy/memset calls).
#if defined(__GNUC__) && !defined(__clang__)
#define MCUSPLIT_NO_LIBCALL_LOOPS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define MCUSPLIT_NO_LIBCALL_LOOPS
#endif

MCUSPLIT_NO_LIBCALL_LOOPS void copy_bytes(int8_t* dst, const int8_t* src, int32_t n) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) packed::store_s8x4(dst + i, packed::load_s8x4(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}

MCUSPLIT_NO_LIBCALL_LOOPS void fill_bytes(int8_t* dst, int8_t value, int32_t n) {
  for (int32_t i = 0; i < n; ++i) dst[i] = value;
}

struct Geometry {
  int32_t in_per_group;
  int32_t in_pixel;
  int32_t in_row;
};

// The window of output pixel (oy, ox) over group g's input channels, in
// filter order [kh][kw][in_per_group], padding filled with the zero point.
void gather_window(const Int8ConvParams& p, const InputTile& in, const Geometry& g, int32_t group,
                   int32_t oy, int32_t ox, int8_t* column) {
  const int32_t ipg = g.in_per_group;
  const auto pad = static_cast<int8_t>(p.input_zero_point);
  const int32_t iy_origin = oy * p.stride_h - p.pad_top;
  const int32_t ix_origin = ox * p.stride_w - p.pad_left;
  const TapRange kx_range = valid_taps(ix_origin, p.input.w, p.kernel_w, p.dilation_w);
  const int32_t row_taps = p.kernel_w * ipg;
  // One copy per window row when the valid taps are adjacent channel runs.
  const bool contiguous = p.dilation_w == 1 && ipg == g.in_pixel;
  const int32_t channel = group * ipg - in.box.c0;
  for (int32_t ky = 0; ky < p.kernel_h; ++ky) {
    int8_t* dst = column + ky * row_taps;
    const int32_t iy = iy_origin + ky * p.dilation_h;
    if (iy < 0 || iy >= p.input.h || kx_range.begin == kx_range.end) {
      fill_bytes(dst, pad, row_taps);
      continue;
    }
    const int8_t* src_row = in.data + (iy - in.box.y0) * g.in_row + channel;
    fill_bytes(dst, pad, kx_range.begin * ipg);
    if (contiguous) {
      const int32_t ix = ix_origin + kx_range.begin;
      copy_bytes(dst + kx_range.begin * ipg, src_row + (ix - in.box.x0) * g.in_pixel,
                 (kx_range.end - kx_range.begin) * ipg);
    } else {
      for (int32_t kx = kx_range.begin; kx < kx_range.end; ++kx) {
        const int32_t ix = ix_origin + kx * p.dilation_w;
        copy_bytes(dst + kx * ipg, src_row + (ix - in.box.x0) * g.in_pixel, ipg);
      }
    }
    fill_bytes(dst + kx_range.end * ipg, pad, (p.kernel_w - kx_range.end) * ipg);
  }
}

}  // namespace

KernelStatus int8_conv_packed(const Int8ConvParams& p, const InputTile& in, const OutputTile& out) {
  const KernelStatus status = validate_conv(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;
  const int32_t in_per_group = p.input.c / p.groups;
  const int32_t taps = p.kernel_h * p.kernel_w * in_per_group;
  if (taps > kMaxTaps) return int8_conv_plain(p, in, out);

  const ResolvedStrides os = resolve_strides(out);
  const int32_t out_per_group = p.output.c / p.groups;
  const int32_t in_pixel = in.box.channels();
  const Geometry geometry{in_per_group, in_pixel, in.box.width() * in_pixel};
  const int32_t offset = -p.input_zero_point;
  const int32_t width = out.box.width();
  const int32_t pixels = out.box.height() * width;
  const int32_t first_group = out.box.c0 / out_per_group;
  const int32_t end_group = (out.box.c1 - 1) / out_per_group + 1;

  const OutputStage stage{p.requant.multiplier, p.requant.shift, p.output_zero_point, p.activation};
  const int8_t* const weights = p.weights;
  const int32_t* const bias = p.bias;
  const int32_t weights_c0 = p.weights_c0;
  int8_t window[kMaxTaps];
  int16_t columns[2][kMaxTaps];
  // Pixels pair up in row-major order across rows, so odd widths cost nothing.
  for (int32_t t = 0; t < pixels; t += 2) {
    const int32_t count = core::min_i32(2, pixels - t);
    int32_t oy[2] = {0, 0};
    int32_t ox[2] = {0, 0};
    int8_t* dst[2] = {nullptr, nullptr};
    for (int32_t j = 0; j < count; ++j) {
      oy[j] = out.box.y0 + (t + j) / width;
      ox[j] = out.box.x0 + (t + j) % width;
      dst[j] =
          out.data + (oy[j] - out.box.y0) * os.row + (ox[j] - out.box.x0) * os.pixel - out.box.c0;
    }
    for (int32_t group = first_group; group < end_group; ++group) {
      for (int32_t j = 0; j < count; ++j) {
        gather_window(p, in, geometry, group, oy[j], ox[j], window);
        packed::expand_column(window, taps, offset, columns[j]);
      }
      const int32_t c0 = core::max_i32(out.box.c0, group * out_per_group);
      const int32_t c1 = core::min_i32(out.box.c1, (group + 1) * out_per_group);
      int32_t oc = c0;
      for (; count == 2 && oc + 2 <= c1; oc += 2) {
        const int32_t slot = oc - weights_c0;
        const int8_t* w = weights + slot * taps;
        const int32_t b0 = bias != nullptr ? bias[slot] : 0;
        const int32_t b1 = bias != nullptr ? bias[slot + 1] : 0;
        int32_t acc[4] = {b0, b1, b0, b1};
        packed::mac_2x2(columns[0], columns[1], w, w + taps, taps, acc);
        for (int32_t j = 0; j < 2; ++j) {
          for (int32_t r = 0; r < 2; ++r) {
            dst[j][oc + r] = stage(acc[2 * j + r], slot + r);
          }
        }
      }
      for (; oc < c1; ++oc) {
        const int32_t slot = oc - weights_c0;
        const int8_t* w = weights + slot * taps;
        for (int32_t j = 0; j < count; ++j) {
          const int32_t acc =
              (bias != nullptr ? bias[slot] : 0) + packed::mac_1x1(columns[j], w, taps);
          dst[j][oc] = stage(acc, slot);
        }
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
