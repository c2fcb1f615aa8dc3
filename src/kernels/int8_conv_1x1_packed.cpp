// The pointwise kernel formulated for the DSP extension (int8_packed_dot.h):
// two output pixels at a time, each expanded once (input offset added) into
// an int16 column, against pairs of output channels' weight rows.
#include "kernels/int8_conv_1x1.h"
#include "kernels/int8_packed_dot.h"

namespace mcusplit::kernels {

namespace {

// Output channels per pass (their accumulators live in the scratch; even, so
// channel pairs never straddle blocks) and input channels per expanded
// column chunk (a multiple of 4, so chunks keep whole packed groups).
constexpr int32_t kChannelBlock = 32;
constexpr int32_t kDepthChunk = 256;

// Words of the largest expanded chunk. column_words is not monotonic (a
// tail value takes a word, a group of 4 two), so the last, shorter chunk can
// need more than a whole one: depth 511 ends in 255 values, 129 words.
int32_t chunk_words(int32_t depth) {
  const int32_t first = core::min_i32(kDepthChunk, depth);
  const int32_t last = (depth - 1) % kDepthChunk + 1;
  return core::max_i32(packed::column_words(first), packed::column_words(last));
}

}  // namespace

int32_t int8_conv_1x1_packed_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  if (out_box.empty() || !is_pointwise_conv(p) || !valid_conv_geometry(p)) return 0;
  const int32_t block = core::min_i32(kChannelBlock, out_box.channels());
  return scratch_array_bytes<uint32_t>(2 * chunk_words(p.input.c)) +
         scratch_array_bytes<int32_t>(2 * block) + scratch_array_bytes<ChannelRequant>(block);
}

KernelStatus int8_conv_1x1_packed(const Int8ConvParams& p, const InputTile& in,
                                  const OutputTile& out, Scratch scratch) {
  if (!is_pointwise_conv(p)) return KernelStatus::BadParams;
  const KernelStatus status = validate_conv(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;
  if (!scratch_fits(scratch, int8_conv_1x1_packed_scratch_bytes(p, out.box))) {
    return KernelStatus::BadParams;
  }

  const ResolvedStrides os = resolve_strides(out);
  const int32_t depth = p.input.c;  // the required box spans all channels, so in.box does too
  const int32_t in_row = in.box.width() * depth;
  const int32_t offset = -p.input_zero_point;
  const int32_t width = out.box.width();
  const int32_t pixels = out.box.height() * width;

  const OutputStage stage{p.requant.multiplier, p.requant.shift, p.output_zero_point, p.activation};
  const int32_t* const bias = p.bias;
  // Carved in the order int8_conv_1x1_packed_scratch_bytes counts them.
  const int32_t words = chunk_words(depth);
  const int32_t max_block = core::min_i32(kChannelBlock, out.box.channels());
  ScratchCarver carver(scratch);
  uint32_t* const column0 = carver.carve<uint32_t>(2 * words);
  uint32_t* const columns[2] = {column0, column0 + words};
  int32_t* const acc0 = carver.carve<int32_t>(2 * max_block);
  int32_t* const acc[2] = {acc0, acc0 + max_block};
  ChannelRequant* const requant = carver.carve<ChannelRequant>(max_block);
  for (int32_t block_c0 = out.box.c0; block_c0 < out.box.c1; block_c0 += kChannelBlock) {
    const int32_t block = core::min_i32(kChannelBlock, out.box.c1 - block_c0);
    const int8_t* block_weights = p.weights + (block_c0 - p.weights_c0) * depth;
    stage.decode(block_c0 - p.weights_c0, block, requant);
    // Pixels pair up in row-major order across rows, so odd widths cost nothing.
    for (int32_t t = 0; t < pixels; t += 2) {
      const int32_t count = core::min_i32(2, pixels - t);
      const int8_t* src[2] = {nullptr, nullptr};
      int8_t* dst[2] = {nullptr, nullptr};
      for (int32_t j = 0; j < count; ++j) {
        const int32_t y = out.box.y0 + (t + j) / width;
        const int32_t x = out.box.x0 + (t + j) % width;
        src[j] = in.data + (y - in.box.y0) * in_row + (x - in.box.x0) * depth;
        dst[j] = out.data + (y - out.box.y0) * os.row + (x - out.box.x0) * os.pixel +
                 (block_c0 - out.box.c0);
      }
      for (int32_t k = 0; k < block; ++k) {
        const int32_t b = bias != nullptr ? bias[block_c0 - p.weights_c0 + k] : 0;
        acc[0][k] = b;
        acc[1][k] = b;
      }
      for (int32_t d0 = 0; d0 < depth; d0 += kDepthChunk) {
        const int32_t n = core::min_i32(kDepthChunk, depth - d0);
        for (int32_t j = 0; j < count; ++j) {
          packed::expand_column(src[j] + d0, n, offset, columns[j]);
        }
        const int8_t* w = block_weights + d0;
        int32_t k = 0;
        if (count == 2) {
          for (; k + 2 <= block; k += 2, w += 2 * depth) {
            int32_t a[4] = {acc[0][k], acc[0][k + 1], acc[1][k], acc[1][k + 1]};
            packed::mac_2x2(columns[0], columns[1], w, w + depth, n, a);
            acc[0][k] = a[0];
            acc[0][k + 1] = a[1];
            acc[1][k] = a[2];
            acc[1][k + 1] = a[3];
          }
        }
        for (; k < block; ++k, w += depth) {
          for (int32_t j = 0; j < count; ++j) acc[j][k] += packed::mac_1x1(columns[j], w, n);
        }
      }
      for (int32_t j = 0; j < count; ++j) {
        int8_t* d = dst[j];
        for (int32_t k = 0; k < block; ++k) d[k] = stage(acc[j][k], requant[k]);
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
