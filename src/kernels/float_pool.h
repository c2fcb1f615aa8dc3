// Float reference 2-D max and average pooling, NCHW.
#pragma once

#include <cstdint>

namespace mcusplit::kernels {

struct Pool2dParams {
  int64_t batch = 1;
  int64_t channels = 0;
  int64_t in_h = 0;
  int64_t in_w = 0;
  int64_t out_h = 0;
  int64_t out_w = 0;
  int64_t kernel_h = 1;
  int64_t kernel_w = 1;
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  int64_t pad_top = 0;
  int64_t pad_left = 0;
  int64_t pad_bottom = 0;
  int64_t pad_right = 0;
  // Average only: divide by the window clipped to the padded input instead of
  // by the number of real input cells.
  bool count_include_pad = false;
};

// Output extent along one axis with ONNX rounding. With ceil_mode a window
// that would start entirely in the end padding is dropped.
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin,
                         int64_t pad_end, bool ceil_mode);

// input [batch][channels][in_h][in_w], output [batch][channels][out_h][out_w].
// Padded cells never win a max; a window with no real cell yields -inf.
void max_pool2d_nchw_f32(const Pool2dParams& p, const float* input, float* output);
void average_pool2d_nchw_f32(const Pool2dParams& p, const float* input, float* output);

}  // namespace mcusplit::kernels
