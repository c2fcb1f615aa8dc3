#include <gtest/gtest.h>

#include <vector>

#include "kernels/float_pool.h"
#include "kernels/float_reduce.h"

namespace mcusplit::kernels {
namespace {

std::vector<float> iota_input(int n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  return v;
}

TEST(FloatPool, OutputSizeCeilModeDropsWindowsInEndPadding) {
  EXPECT_EQ(pool_output_size(4, 3, 2, 0, 0, false), 1);
  EXPECT_EQ(pool_output_size(4, 3, 2, 0, 0, true), 2);
  // in 5, k 2, s 2, pad end 1: floor -> 3, ceil -> 3.
  EXPECT_EQ(pool_output_size(5, 2, 2, 0, 1, true), 3);
  // in 4, k 1, s 2, pads 1/1: ceil gives 4 windows, but the 4th starts at 5
  // in padded coordinates = the end padding, so it is dropped.
  EXPECT_EQ(pool_output_size(4, 1, 2, 1, 1, false), 3);
  EXPECT_EQ(pool_output_size(4, 1, 2, 1, 1, true), 3);
  EXPECT_EQ(pool_output_size(5, 2, 2, 1, 1, true), 4 - 1);
}

TEST(FloatPool, MaxCeilModePartialWindow) {
  // 4x4 input 1..16, kernel 3, stride 2, ceil_mode -> 2x2 (ONNX
  // test_maxpool_2d_ceil).
  std::vector<float> input = iota_input(16);
  Pool2dParams p;
  p.channels = 1;
  p.in_h = p.in_w = 4;
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.out_h = p.out_w = 2;
  std::vector<float> out(4);
  max_pool2d_nchw_f32(p, input.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{11, 12, 15, 16}));
  average_pool2d_nchw_f32(p, input.data(), out.data());
  // Partial windows average only real cells: rows 0-2 x cols 2-3 -> mean of
  // 3,4,7,8,11,12 = 7.5.
  EXPECT_EQ(out, (std::vector<float>{6, 7.5, 12, 13.5}));
}

TEST(FloatPool, AverageCountIncludePad) {
  // 3x3 input 1..9, kernel 3, pad 1, stride 1.
  std::vector<float> input = iota_input(9);
  Pool2dParams p;
  p.channels = 1;
  p.in_h = p.in_w = 3;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.out_h = p.out_w = 3;
  std::vector<float> out(9);
  average_pool2d_nchw_f32(p, input.data(), out.data());
  EXPECT_FLOAT_EQ(out[0], 12.0f / 4.0f);  // corner: 1+2+4+5 over 4 cells
  EXPECT_FLOAT_EQ(out[1], 21.0f / 6.0f);
  EXPECT_FLOAT_EQ(out[4], 5.0f);
  p.count_include_pad = true;
  average_pool2d_nchw_f32(p, input.data(), out.data());
  EXPECT_FLOAT_EQ(out[0], 12.0f / 9.0f);
  EXPECT_FLOAT_EQ(out[1], 21.0f / 9.0f);
  EXPECT_FLOAT_EQ(out[4], 5.0f);
}

TEST(FloatPool, MaxIgnoresPaddingForNegativeValues) {
  std::vector<float> input = {-4, -3, -2, -1};
  Pool2dParams p;
  p.channels = 1;
  p.in_h = p.in_w = 2;
  p.kernel_h = p.kernel_w = 2;
  p.pad_top = p.pad_left = 1;
  p.out_h = p.out_w = 2;
  std::vector<float> out(4);
  max_pool2d_nchw_f32(p, input.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{-4, -3, -2, -1}));
}

TEST(FloatReduce, GlobalAveragePoolPerPlane) {
  std::vector<float> input = {1, 2, 3, 4, 10, 20, 30, 40};
  std::vector<float> out(2);
  global_average_pool_f32(2, 4, input.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{2.5, 25}));
}

TEST(FloatReduce, ReduceMeanMiddleAndOuterAxes) {
  // [2, 3, 2] values 1..12.
  std::vector<float> input = iota_input(12);
  ReduceShape shape;
  shape.rank = 3;
  shape.dims[0] = 2;
  shape.dims[1] = 3;
  shape.dims[2] = 2;
  shape.reduced[1] = true;
  std::vector<float> out(4);
  reduce_mean_f32(shape, input.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{3, 4, 9, 10}));
  shape.reduced[0] = true;
  std::vector<float> out2(2);
  reduce_mean_f32(shape, input.data(), out2.data());
  EXPECT_EQ(out2, (std::vector<float>{6, 7}));
}

}  // namespace
}  // namespace mcusplit::kernels
