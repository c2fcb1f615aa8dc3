// Float reference 2-D convolution, NCHW.
#pragma once

#include <cstdint>
#include <limits>

namespace mcusplit::kernels {

struct Conv2dParams {
  int64_t batch = 1;
  int64_t in_channels = 0;
  int64_t in_h = 0;
  int64_t in_w = 0;
  int64_t out_channels = 0;
  int64_t out_h = 0;
  int64_t out_w = 0;
  int64_t kernel_h = 1;
  int64_t kernel_w = 1;
  int64_t stride_h = 1;
  int64_t stride_w = 1;
  // Bottom/right padding only shows in out_h/out_w (see conv_output_size).
  int64_t pad_top = 0;
  int64_t pad_left = 0;
  int64_t groups = 1;  // in_channels == out_channels == groups is depthwise
  // Fused activation: the result is clamped to [act_min, act_max].
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();
};

// Output extent of a convolution along one axis (floor rounding, as ONNX).
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin,
                         int64_t pad_end);

// input [batch][in_channels][in_h][in_w]
// weights [out_channels][in_channels / groups][kernel_h][kernel_w]
// bias [out_channels] or nullptr
// output [batch][out_channels][out_h][out_w]
void conv2d_nchw_f32(const Conv2dParams& p, const float* input, const float* weights,
                     const float* bias, float* output);

}  // namespace mcusplit::kernels
