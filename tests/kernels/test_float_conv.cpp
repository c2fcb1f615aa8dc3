#include <gtest/gtest.h>

#include <vector>

#include "kernels/float_conv.h"

namespace mcusplit::kernels {
namespace {

TEST(FloatConv, OutputSizeFloorsPartialWindows) {
  EXPECT_EQ(conv_output_size(5, 3, 1, 1, 1), 5);
  EXPECT_EQ(conv_output_size(5, 3, 2, 1, 1), 3);
  EXPECT_EQ(conv_output_size(6, 3, 2, 0, 0), 2);
  EXPECT_EQ(conv_output_size(7, 3, 2, 1, 0), 3);  // asymmetric pads
}

TEST(FloatConv, PaddedThreeByThreeSumsNeighbourhood) {
  // 3x3 input 1..9, all-ones 3x3 kernel, pad 1: each output is the sum of
  // the in-bounds neighbours.
  std::vector<float> input = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<float> weights(9, 1.0f);
  Conv2dParams p;
  p.in_channels = 1;
  p.in_h = p.in_w = 3;
  p.out_channels = 1;
  p.out_h = p.out_w = 3;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = 1;
  std::vector<float> out(9);
  conv2d_nchw_f32(p, input.data(), weights.data(), nullptr, out.data());
  EXPECT_EQ(out, (std::vector<float>{12, 21, 16, 27, 45, 33, 24, 39, 28}));
}

TEST(FloatConv, StrideAsymmetricPadBiasAndClamp) {
  // 1x4x4 input 0..15, 2x2 kernel [1,0;0,1], stride 2, pad top/left 1
  // bottom/right 0 -> 2x2 output; bias 1, clamp at 12.
  std::vector<float> input(16);
  for (int i = 0; i < 16; ++i) input[i] = static_cast<float>(i);
  std::vector<float> weights = {1, 0, 0, 1};
  std::vector<float> bias = {1};
  Conv2dParams p;
  p.in_channels = 1;
  p.in_h = p.in_w = 4;
  p.out_channels = 1;
  p.kernel_h = p.kernel_w = 2;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = 1;
  p.out_h = conv_output_size(4, 2, 2, 1, 0);
  p.out_w = conv_output_size(4, 2, 2, 1, 0);
  ASSERT_EQ(p.out_h, 2);
  p.act_max = 12.0f;
  std::vector<float> out(4);
  conv2d_nchw_f32(p, input.data(), weights.data(), bias.data(), out.data());
  // Window origins (-1,-1),(-1,1),(1,-1),(1,1): taps (y,x) and (y+1,x+1).
  // (-1,-1): only (0,0)=0 -> 1; (-1,1): (0,2)=2 -> 3;
  // (1,-1): (2,0)=8 -> 9; (1,1): (1,1)+(2,2)=5+10 -> 16, clamped to 12.
  EXPECT_EQ(out, (std::vector<float>{1, 3, 9, 12}));
}

TEST(FloatConv, GroupsAndBatch) {
  // 2 images, 4 input channels, 2 groups, 2 output channels, 1x1 kernels:
  // out0 = c0 + 2*c1, out1 = 3*c2 + 4*c3.
  std::vector<float> input = {
      1,  2,  3,  4,   // image 0, one pixel per channel
      10, 20, 30, 40,  // image 1
  };
  std::vector<float> weights = {1, 2, 3, 4};
  Conv2dParams p;
  p.batch = 2;
  p.in_channels = 4;
  p.in_h = p.in_w = 1;
  p.out_channels = 2;
  p.out_h = p.out_w = 1;
  p.groups = 2;
  std::vector<float> out(4);
  conv2d_nchw_f32(p, input.data(), weights.data(), nullptr, out.data());
  EXPECT_EQ(out, (std::vector<float>{5, 25, 50, 250}));
}

TEST(FloatConv, DepthwiseKeepsChannelsApart) {
  // 2 channels of 2x2, depthwise 2x2 kernels (all ones, all twos), no pad.
  std::vector<float> input = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> weights = {1, 1, 1, 1, 2, 2, 2, 2};
  Conv2dParams p;
  p.in_channels = p.out_channels = p.groups = 2;
  p.in_h = p.in_w = 2;
  p.kernel_h = p.kernel_w = 2;
  p.out_h = p.out_w = 1;
  std::vector<float> out(2);
  conv2d_nchw_f32(p, input.data(), weights.data(), nullptr, out.data());
  EXPECT_EQ(out, (std::vector<float>{10, 52}));
}

}  // namespace
}  // namespace mcusplit::kernels
