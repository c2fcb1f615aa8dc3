#include "kernels/float_pool.h"

#include <limits>

namespace mcusplit::kernels {

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin,
                         int64_t pad_end, bool ceil_mode) {
  const int64_t span = in + pad_begin + pad_end - kernel;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // The last window must start inside the input or its begin padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

namespace {

int64_t max_of(int64_t a, int64_t b) {
  return a > b ? a : b;
}
int64_t min_of(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// Window rows/cols of one output cell: [begin, end) in input coordinates,
// clipped to the input (real) and to the padded input (padded).
struct WindowSpan {
  int64_t begin;
  int64_t end;
  int64_t padded_count;
};

WindowSpan window_span(int64_t out_index, int64_t stride, int64_t kernel, int64_t pad_begin,
                       int64_t in, int64_t pad_end) {
  const int64_t start = out_index * stride - pad_begin;
  const int64_t stop = start + kernel;
  WindowSpan span;
  span.begin = max_of(start, 0);
  span.end = min_of(stop, in);
  span.padded_count = min_of(stop, in + pad_end) - start;
  return span;
}

enum class PoolKind { Max, Average };

void pool2d(const Pool2dParams& p, PoolKind kind, const float* input, float* output) {
  const int64_t planes = p.batch * p.channels;
  const int64_t in_plane = p.in_h * p.in_w;
  for (int64_t c = 0; c < planes; ++c) {
    const float* plane = input + c * in_plane;
    for (int64_t oy = 0; oy < p.out_h; ++oy) {
      const WindowSpan rows =
          window_span(oy, p.stride_h, p.kernel_h, p.pad_top, p.in_h, p.pad_bottom);
      for (int64_t ox = 0; ox < p.out_w; ++ox) {
        const WindowSpan cols =
            window_span(ox, p.stride_w, p.kernel_w, p.pad_left, p.in_w, p.pad_right);
        float max = -std::numeric_limits<float>::infinity();
        float sum = 0.0f;
        for (int64_t y = rows.begin; y < rows.end; ++y) {
          for (int64_t x = cols.begin; x < cols.end; ++x) {
            const float v = plane[y * p.in_w + x];
            max = v > max ? v : max;
            sum += v;
          }
        }
        if (kind == PoolKind::Max) {
          *output++ = max;
          continue;
        }
        const int64_t count = p.count_include_pad ? rows.padded_count * cols.padded_count
                                                  : max_of(rows.end - rows.begin, 0) *
                                                        max_of(cols.end - cols.begin, 0);
        *output++ = count > 0 ? sum / static_cast<float>(count) : 0.0f;
      }
    }
  }
}

}  // namespace

void max_pool2d_nchw_f32(const Pool2dParams& p, const float* input, float* output) {
  pool2d(p, PoolKind::Max, input, output);
}

void average_pool2d_nchw_f32(const Pool2dParams& p, const float* input, float* output) {
  pool2d(p, PoolKind::Average, input, output);
}

}  // namespace mcusplit::kernels
