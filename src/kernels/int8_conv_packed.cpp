// The general convolution formulated for the DSP extension
// (int8_packed_dot.h): per pair of output pixels, each window is gathered
// into an int8 column (padding taps hold the input zero point, so they add
// exactly 0 once the offset is applied) and expanded once to int16; the pair
// of columns then meets pairs of output channels' filters.
// GCC would turn the short copy loops of the window gather back into
// memcpy/memset calls whose set-up costs more than the copies; file-wide, as
// an attribute on the helpers would stop them being inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

#include "kernels/int8_conv.h"
#include "kernels/int8_packed_dot.h"

namespace mcusplit::kernels {

namespace {

// Taps (kernel_h * kernel_w * input channels per group) a column may hold:
// bounds the scratch (about 4.4 KiB at most). Larger filters take the plain
// kernel.
constexpr int32_t kMaxTaps = 512;
// Output channels whose requantization is decoded at a time.
constexpr int32_t kChannelBlock = 32;
// Filters one tap short of a multiple of 4 (3x3x3: 27) are copied per
// block, zero-padded, when they fit in this many scratch bytes: the dot products then have no
// scalar tail (measured: with 3 padding taps, 3x3x1, it costs more than the
// tail).
constexpr int32_t kPaddedWeightBytes = 1024;

// Window rows are a few to a few hundred bytes: inline word copies (with
// tree-loop-distribute-patterns off, see the top of the file).
inline void copy_bytes(int8_t* dst, const int8_t* src, int32_t n) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) packed::store_s8x4(dst + i, packed::load_s8x4(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}

inline void fill_bytes(int8_t* dst, int8_t value, int32_t n) {
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
  const int32_t iy_origin = oy * p.stride_h - p.pad_top;
  const int32_t ix_origin = ox * p.stride_w - p.pad_left;
  const TapRange ky_range = valid_taps(iy_origin, p.input.h, p.kernel_h, p.dilation_h);
  const TapRange kx_range = valid_taps(ix_origin, p.input.w, p.kernel_w, p.dilation_w);
  const int32_t row_taps = p.kernel_w * ipg;
  const int32_t channel = group * ipg - in.box.c0;
  // Taps adjacent in a row and a pixel holding just the group's channels:
  // a window row is one run of the input row.
  const bool contiguous = p.dilation_w == 1 && ipg == g.in_pixel;
  if (contiguous && ky_range.end - ky_range.begin == p.kernel_h &&
      kx_range.end - kx_range.begin == p.kernel_w) {
    // No padding (most windows): one copy per row.
    const int8_t* src = in.data + (iy_origin - in.box.y0) * g.in_row +
                        (ix_origin - in.box.x0) * g.in_pixel + channel;
    const int32_t step = p.dilation_h * g.in_row;
    for (int32_t ky = 0; ky < p.kernel_h; ++ky, src += step) {
      copy_bytes(column + ky * row_taps, src, row_taps);
    }
    return;
  }
  const auto pad = static_cast<int8_t>(p.input_zero_point);
  fill_bytes(column, pad, p.kernel_h * row_taps);
  for (int32_t ky = ky_range.begin; ky < ky_range.end; ++ky) {
    int8_t* dst = column + ky * row_taps;
    const int32_t iy = iy_origin + ky * p.dilation_h;
    const int8_t* src_row = in.data + (iy - in.box.y0) * g.in_row + channel;
    for (int32_t kx = kx_range.begin; kx < kx_range.end; ++kx) {
      const int32_t ix = ix_origin + kx * p.dilation_w;
      copy_bytes(dst + kx * ipg, src_row + (ix - in.box.x0) * g.in_pixel, ipg);
    }
  }
}

// Channels of the largest block out_box can make, and of its padded weights.
struct ScratchPlan {
  int32_t taps = 0;
  int32_t block = 0;
  int32_t padded_weight_bytes = 0;
};

ScratchPlan plan_scratch(const Int8ConvParams& p, const Box& out_box) {
  ScratchPlan s;
  s.taps = p.kernel_h * p.kernel_w * (p.input.c / p.groups);
  s.block = core::min_i32(core::min_i32(kChannelBlock, p.output.c / p.groups), out_box.channels());
  const int32_t padded_taps = (s.taps + 3) & ~3;
  if (padded_taps == s.taps + 1) {
    s.padded_weight_bytes = core::min_i32(s.block, kPaddedWeightBytes / padded_taps) * padded_taps;
  }
  return s;
}

}  // namespace

int32_t int8_conv_packed_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  if (out_box.empty() || !valid_conv_geometry(p)) return 0;
  const ScratchPlan s = plan_scratch(p, out_box);
  if (s.taps > kMaxTaps) return int8_conv_plain_scratch_bytes(p, out_box);
  return scratch_array_bytes<uint32_t>(2 * packed::column_words(s.taps)) +
         scratch_array_bytes<int32_t>(s.block) + scratch_array_bytes<ChannelRequant>(s.block) +
         scratch_array_bytes<int8_t>((s.taps + 3) & ~3) +
         scratch_array_bytes<int8_t>(s.padded_weight_bytes);
}

KernelStatus int8_conv_packed(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                              Scratch scratch) {
  const KernelStatus status = validate_conv(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;
  const ScratchPlan plan = plan_scratch(p, out.box);
  const int32_t in_per_group = p.input.c / p.groups;
  const int32_t taps = plan.taps;
  if (taps > kMaxTaps) return int8_conv_plain(p, in, out, scratch);
  if (!scratch_fits(scratch, int8_conv_packed_scratch_bytes(p, out.box))) {
    return KernelStatus::BadParams;
  }

  const ResolvedStrides os = resolve_strides(out);
  const int32_t out_per_group = p.output.c / p.groups;
  const int32_t in_pixel = in.box.channels();
  const Geometry geometry{in_per_group, in_pixel, in.box.width() * in_pixel};
  const int32_t offset = -p.input_zero_point;
  const int32_t width = out.box.width();
  const int32_t pixels = out.box.height() * width;

  const OutputStage stage{p.requant.multiplier, p.requant.shift, p.output_zero_point, p.activation};
  const int8_t* const weights = p.weights;
  const int32_t* const bias = p.bias;
  const int32_t padded_taps = (taps + 3) & ~3;
  // Carved in the order int8_conv_packed_scratch_bytes counts them.
  ScratchCarver carver(scratch);
  const int32_t column_words = packed::column_words(taps);
  uint32_t* const column0 = carver.carve<uint32_t>(2 * column_words);
  uint32_t* const columns[2] = {column0, column0 + column_words};
  int32_t* const block_bias = carver.carve<int32_t>(plan.block);
  ChannelRequant* const requant = carver.carve<ChannelRequant>(plan.block);
  int8_t* const window = carver.carve<int8_t>(padded_taps);
  int8_t* const padded_weights = carver.carve<int8_t>(plan.padded_weight_bytes);
  // Blocks of output channels inside one group, decoded once; the windows
  // are gathered again per block (layers with many channels per group have
  // many MACs per gathered tap).
  for (int32_t block_c0 = out.box.c0; block_c0 < out.box.c1;) {
    const int32_t group = block_c0 / out_per_group;
    const int32_t block_c1 = core::min_i32(core::min_i32(out.box.c1, (group + 1) * out_per_group),
                                           block_c0 + kChannelBlock);
    const int32_t block = block_c1 - block_c0;
    const int32_t first_slot = block_c0 - p.weights_c0;
    const int8_t* block_weights = weights + first_slot * taps;
    int32_t n = taps;  // taps per filter row as the dot products see them
    // plan.padded_weight_bytes holds every block that passes this test.
    if (padded_taps == taps + 1 && padded_taps * block <= kPaddedWeightBytes) {
      for (int32_t k = 0; k < block; ++k) {
        for (int32_t i = 0; i < padded_taps; ++i) {
          padded_weights[k * padded_taps + i] = i < taps ? block_weights[k * taps + i] : 0;
        }
      }
      // The padding taps of the windows read the zero point: 0 after the offset.
      for (int32_t i = taps; i < padded_taps; ++i)
        window[i] = static_cast<int8_t>(p.input_zero_point);
      block_weights = padded_weights;
      n = padded_taps;
    }
    stage.decode(first_slot, block, requant);
    for (int32_t k = 0; k < block; ++k) block_bias[k] = bias != nullptr ? bias[first_slot + k] : 0;

    // Pixels pair up in row-major order across rows, so odd widths cost nothing.
    for (int32_t t = 0; t < pixels; t += 2) {
      const int32_t count = core::min_i32(2, pixels - t);
      int8_t* dst[2] = {nullptr, nullptr};
      for (int32_t j = 0; j < count; ++j) {
        const int32_t oy = out.box.y0 + (t + j) / width;
        const int32_t ox = out.box.x0 + (t + j) % width;
        dst[j] = out.data + (oy - out.box.y0) * os.row + (ox - out.box.x0) * os.pixel +
                 (block_c0 - out.box.c0);
        gather_window(p, in, geometry, group, oy, ox, window);
        packed::expand_column(window, n, offset, columns[j]);
      }
      int32_t k = 0;
      for (; count == 2 && k + 2 <= block; k += 2) {
        const int8_t* w = block_weights + k * n;
        int32_t acc[4] = {block_bias[k], block_bias[k + 1], block_bias[k], block_bias[k + 1]};
        packed::mac_2x2(columns[0], columns[1], w, w + n, n, acc);
        dst[0][k] = stage(acc[0], requant[k]);
        dst[0][k + 1] = stage(acc[1], requant[k + 1]);
        dst[1][k] = stage(acc[2], requant[k]);
        dst[1][k + 1] = stage(acc[3], requant[k + 1]);
      }
      for (; k < block; ++k) {
        const int8_t* w = block_weights + k * n;
        for (int32_t j = 0; j < count; ++j) {
          dst[j][k] = stage(block_bias[k] + packed::mac_1x1(columns[j], w, n), requant[k]);
        }
      }
    }
    block_c0 = block_c1;
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
