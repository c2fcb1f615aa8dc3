#include "kernels/float_conv.h"

namespace mcusplit::kernels {

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin,
                         int64_t pad_end) {
  const int64_t span = in + pad_begin + pad_end - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

namespace {

// Output positions [first, last) along one axis for which kernel tap `tap`
// reads a real input cell: 0 <= o * stride - pad + tap < in. Computing the
// range once per tap keeps padding checks out of the inner loop.
void outputs_reading_input(int64_t tap, int64_t pad, int64_t stride, int64_t in, int64_t out,
                           int64_t* first, int64_t* last) {
  const int64_t low = pad - tap;  // o * stride >= low
  *first = low <= 0 ? 0 : (low + stride - 1) / stride;
  const int64_t high = in - 1 + pad - tap;  // o * stride <= high
  *last = high < 0 ? 0 : high / stride + 1;
  if (*last > out) *last = out;
  if (*last < *first) *last = *first;
}

}  // namespace

// Loop order: one output plane at a time, adding each (input channel, tap)
// contribution across the whole plane. The innermost loop then walks an
// input row and an output row contiguously, which is several times faster
// than a per-pixel dot product over NCHW planes.
void conv2d_nchw_f32(const Conv2dParams& p, const float* input, const float* weights,
                     const float* bias, float* output) {
  const int64_t in_per_group = p.in_channels / p.groups;
  const int64_t out_per_group = p.out_channels / p.groups;
  const int64_t in_plane = p.in_h * p.in_w;
  const int64_t out_plane = p.out_h * p.out_w;
  const int64_t kernel_plane = p.kernel_h * p.kernel_w;
  for (int64_t n = 0; n < p.batch; ++n) {
    const float* image = input + n * p.in_channels * in_plane;
    for (int64_t oc = 0; oc < p.out_channels; ++oc) {
      float* out = output + (n * p.out_channels + oc) * out_plane;
      const float initial = bias ? bias[oc] : 0.0f;
      for (int64_t i = 0; i < out_plane; ++i) out[i] = initial;
      const int64_t first_ic = (oc / out_per_group) * in_per_group;
      const float* filter = weights + oc * in_per_group * kernel_plane;
      for (int64_t ic = 0; ic < in_per_group; ++ic) {
        const float* plane = image + (first_ic + ic) * in_plane;
        for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
          int64_t oy_begin = 0;
          int64_t oy_end = 0;
          outputs_reading_input(ky, p.pad_top, p.stride_h, p.in_h, p.out_h, &oy_begin, &oy_end);
          for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
            int64_t ox_begin = 0;
            int64_t ox_end = 0;
            outputs_reading_input(kx, p.pad_left, p.stride_w, p.in_w, p.out_w, &ox_begin, &ox_end);
            const float w = filter[(ic * p.kernel_h + ky) * p.kernel_w + kx];
            for (int64_t oy = oy_begin; oy < oy_end; ++oy) {
              const float* in_row = plane + (oy * p.stride_h - p.pad_top + ky) * p.in_w;
              float* out_row = out + oy * p.out_w;
              const int64_t x_offset = kx - p.pad_left;
              if (p.stride_w == 1) {
                for (int64_t ox = ox_begin; ox < ox_end; ++ox)
                  out_row[ox] += w * in_row[ox + x_offset];
              } else {
                for (int64_t ox = ox_begin; ox < ox_end; ++ox) {
                  out_row[ox] += w * in_row[ox * p.stride_w + x_offset];
                }
              }
            }
          }
        }
      }
      for (int64_t i = 0; i < out_plane; ++i) {
        const float v = out[i];
        out[i] = v < p.act_min ? p.act_min : (v > p.act_max ? p.act_max : v);
      }
    }
  }
}

}  // namespace mcusplit::kernels
