#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "int8_test_util.h"
#include "kernels/int8_softmax.h"

namespace mcusplit::kernels {
namespace {

using testing::Rng;

std::vector<int8_t> run(const Int8SoftmaxParams& p, const std::vector<int8_t>& input,
                        const Box& out_box) {
  std::vector<int8_t> out(static_cast<size_t>(out_box.volume()), 99);
  const InputTile in{input.data(), core::full_box(p.shape)};
  EXPECT_EQ(int8_softmax(p, in, OutputTile{out.data(), out_box}, Scratch{}), KernelStatus::Ok);
  return out;
}

Int8SoftmaxParams params(const TensorShape3& shape, double beta, double scale) {
  const Int8SoftmaxSetup setup = make_int8_softmax_params(shape, beta, scale);
  EXPECT_TRUE(setup.ok);
  return setup.params;
}

TEST(Int8Softmax, EqualInputsShareTheProbabilityEvenly) {
  // 1/2 and 1/4 in steps of 1/256 from -128.
  EXPECT_EQ(run(params({2, 1, 1}, 1.0, 0.1), {5, 5}, Box{0, 2, 0, 1, 0, 1}),
            (std::vector<int8_t>{0, 0}));
  EXPECT_EQ(run(params({4, 1, 1}, 1.0, 0.1), {-7, -7, -7, -7}, Box{0, 4, 0, 1, 0, 1}),
            (std::vector<int8_t>{-64, -64, -64, -64}));
}

TEST(Int8Softmax, ScalingFollowsTfLitePreprocessing) {
  // beta * scale * 2^26 = 0.05 * 2^26: mantissa 0.8 (Q31), exponent 22; the
  // radius is floor(31 * 2^26 / 2^22) = 496.
  const Int8SoftmaxParams p = params({3, 1, 1}, 1.0, 0.05);
  EXPECT_EQ(p.input_left_shift, 22);
  EXPECT_EQ(p.input_multiplier, static_cast<int32_t>(std::round(0.8 * 2147483648.0)));
  EXPECT_EQ(p.diff_min, -496);
  // Not above 1: refused, as TFLite does.
  EXPECT_FALSE(make_int8_softmax_params({3, 1, 1}, 1.0, 1e-9).ok);
}

TEST(Int8Softmax, StaysWithinOneStepOfTheRealSoftmax) {
  Rng rng(7);
  for (int i = 0; i < 200; ++i) {
    const TensorShape3 shape{rng.uniform(1, 40), rng.uniform(1, 3), rng.uniform(1, 3)};
    const double scale = std::ldexp(1.0, -rng.uniform(2, 8)) * (1.0 + rng.uniform(0, 99) / 100.0);
    const Int8SoftmaxParams p = params(shape, 1.0, scale);
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(shape.volume()));
    const std::vector<int8_t> got = run(p, input, core::full_box(shape));
    for (int32_t pixel = 0; pixel < shape.h * shape.w; ++pixel) {
      const int8_t* x = input.data() + pixel * shape.c;
      double sum = 0.0;
      for (int32_t c = 0; c < shape.c; ++c) sum += std::exp(scale * (x[c] - 127));
      for (int32_t c = 0; c < shape.c; ++c) {
        const double want = std::exp(scale * (x[c] - 127)) / sum * 256.0 - 128.0;
        const double clamped = std::fmin(127.0, std::fmax(-128.0, want));
        EXPECT_NEAR(got[static_cast<size_t>(pixel * shape.c + c)], clamped, 1.0)
            << "case " << i << " channel " << c;
      }
    }
  }
}

TEST(Int8Softmax, DifferencesBelowTheRadiusGiveMinus128) {
  // Scale 1: 2^26 is mantissa 1/2, exponent 27, so the radius is
  // floor(31 * 2^26 / 2^27) = 15 steps; past it the kernel skips the exp
  // (-40), inside it exp(-20) still rounds to nothing.
  const Int8SoftmaxParams p = params({3, 1, 1}, 1.0, 1.0);
  EXPECT_EQ(p.diff_min, -15);
  EXPECT_EQ(run(p, {100, 60, 0}, Box{0, 3, 0, 1, 0, 1}), (std::vector<int8_t>{127, -128, -128}));
}

TEST(Int8Softmax, AnyOutputBoxGivesTheWholeTensorsValues) {
  Rng rng(11);
  const TensorShape3 shape{7, 4, 5};
  const Int8SoftmaxParams p = params(shape, 1.0, 0.03);
  const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(shape.volume()));
  const std::vector<int8_t> whole = run(p, input, core::full_box(shape));
  for (int i = 0; i < 50; ++i) {
    const int c0 = rng.uniform(0, 6), y0 = rng.uniform(0, 3), x0 = rng.uniform(0, 4);
    const Box b{c0, rng.uniform(c0 + 1, 7), y0, rng.uniform(y0 + 1, 4), x0, rng.uniform(x0 + 1, 5)};
    // Only the box's pixels, all their channels, are given.
    const Box need = required_input_box(p, b);
    ASSERT_EQ(need, (Box{0, 7, b.y0, b.y1, b.x0, b.x1}));
    std::vector<int8_t> tile;
    for (int y = need.y0; y < need.y1; ++y) {
      for (int x = need.x0; x < need.x1; ++x) {
        for (int c = 0; c < 7; ++c) tile.push_back(input[static_cast<size_t>((y * 5 + x) * 7 + c)]);
      }
    }
    std::vector<int8_t> out(static_cast<size_t>(b.volume()));
    ASSERT_EQ(int8_softmax(p, InputTile{tile.data(), need}, OutputTile{out.data(), b}, Scratch{}),
              KernelStatus::Ok);
    size_t k = 0;
    for (int y = b.y0; y < b.y1; ++y) {
      for (int x = b.x0; x < b.x1; ++x) {
        for (int c = b.c0; c < b.c1; ++c) {
          EXPECT_EQ(out[k++], whole[static_cast<size_t>((y * 5 + x) * 7 + c)]);
        }
      }
    }
    Box short_box = need;
    short_box.c1 -= 1;
    EXPECT_EQ(
        int8_softmax(p, InputTile{tile.data(), short_box}, OutputTile{out.data(), b}, Scratch{}),
        KernelStatus::InputBoxTooSmall);
  }
}

}  // namespace
}  // namespace mcusplit::kernels
