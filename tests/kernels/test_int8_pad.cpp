// int8 Pad on boxes: every output box equals the same box of a plain
// whole-tensor pad, reading only the input box it states; bad parameters and
// a short input are refused without writing.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/int8_pad.h"

namespace mcusplit::kernels {
namespace {

// The whole padded tensor, NHWC, element by element.
std::vector<int8_t> padded(const Int8PadParams& p, const std::vector<int8_t>& in) {
  std::vector<int8_t> out(static_cast<size_t>(p.output.volume()), static_cast<int8_t>(p.value));
  for (int32_t y = 0; y < p.input.h; ++y) {
    for (int32_t x = 0; x < p.input.w; ++x) {
      for (int32_t c = 0; c < p.input.c; ++c) {
        const int64_t o =
            (int64_t{y + p.pad_top} * p.output.w + (x + p.pad_left)) * p.output.c + (c + p.pad_c);
        out[static_cast<size_t>(o)] =
            in[static_cast<size_t>((int64_t{y} * p.input.w + x) * p.input.c + c)];
      }
    }
  }
  return out;
}

TEST(Int8Pad, EveryOutputBoxEqualsTheWholePadReadingOnlyItsInputBox) {
  std::mt19937 rng(5);
  const auto uniform = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 200; ++trial) {
    Int8PadParams p;
    p.input = TensorShape3{uniform(1, 5), uniform(1, 6), uniform(1, 6)};
    p.pad_c = uniform(0, 2);
    p.pad_top = uniform(0, 3);
    p.pad_left = uniform(0, 3);
    p.output =
        TensorShape3{p.input.c + p.pad_c + uniform(0, 2), p.input.h + p.pad_top + uniform(0, 3),
                     p.input.w + p.pad_left + uniform(0, 3)};
    p.value = uniform(-128, 127);
    ASSERT_EQ(check_int8_pad_params(p), nullptr);
    std::vector<int8_t> in(static_cast<size_t>(p.input.volume()));
    for (auto& v : in) v = static_cast<int8_t>(uniform(-128, 127));
    const std::vector<int8_t> want = padded(p, in);

    const int32_t c0 = uniform(0, p.output.c - 1), y0 = uniform(0, p.output.h - 1),
                  x0 = uniform(0, p.output.w - 1);
    const Box box{c0, uniform(c0 + 1, p.output.c), y0, uniform(y0 + 1, p.output.h),
                  x0, uniform(x0 + 1, p.output.w)};
    // The input tile holds exactly the box it states (dense).
    const Box need = required_input_box(p, box);
    std::vector<int8_t> tile;
    for (int32_t y = need.y0; y < need.y1; ++y) {
      for (int32_t x = need.x0; x < need.x1; ++x) {
        for (int32_t c = need.c0; c < need.c1; ++c) {
          tile.push_back(in[static_cast<size_t>((int64_t{y} * p.input.w + x) * p.input.c + c)]);
        }
      }
    }
    std::vector<int8_t> out(static_cast<size_t>(box.volume()), 0);
    ASSERT_EQ(int8_pad(p, InputTile{need.empty() ? nullptr : tile.data(), need},
                       OutputTile{out.data(), box}, {}),
              KernelStatus::Ok)
        << trial;
    size_t i = 0;
    for (int32_t y = box.y0; y < box.y1; ++y) {
      for (int32_t x = box.x0; x < box.x1; ++x) {
        for (int32_t c = box.c0; c < box.c1; ++c, ++i) {
          const int64_t o = (int64_t{y} * p.output.w + x) * p.output.c + c;
          ASSERT_EQ(out[i], want[static_cast<size_t>(o)])
              << trial << " (c " << c << ", y " << y << ", x " << x << ")";
        }
      }
    }
  }
}

TEST(Int8Pad, ABoxOfPaddingAloneReadsNothing) {
  const Int8PadParams p{TensorShape3{2, 2, 2}, TensorShape3{2, 5, 5}, 0, 2, 2, -7};
  const Box corner{0, 2, 0, 2, 0, 2};
  EXPECT_TRUE(required_input_box(p, corner).empty());
  std::vector<int8_t> out(8, 0);
  ASSERT_EQ(int8_pad(p, InputTile{}, OutputTile{out.data(), corner}, {}), KernelStatus::Ok);
  EXPECT_EQ(out, std::vector<int8_t>(8, -7));
}

TEST(Int8Pad, RefusesBadParametersAndAShortInput) {
  Int8PadParams p{TensorShape3{2, 2, 2}, TensorShape3{2, 3, 3}, 0, 1, 1, 0};
  std::vector<int8_t> in(8, 1);
  std::vector<int8_t> out(18, 9);
  const Box whole{0, 2, 0, 3, 0, 3};
  Int8PadParams too_far = p;
  too_far.pad_top = 2;  // the input's last row would land outside the output
  EXPECT_NE(check_int8_pad_params(too_far), nullptr);
  EXPECT_EQ(int8_pad(too_far, InputTile{in.data(), Box{0, 2, 0, 2, 0, 2}},
                     OutputTile{out.data(), whole}, {}),
            KernelStatus::BadParams);
  Int8PadParams wide = p;
  wide.value = 128;
  EXPECT_NE(check_int8_pad_params(wide), nullptr);
  EXPECT_EQ(
      int8_pad(p, InputTile{in.data(), Box{0, 2, 0, 1, 0, 2}}, OutputTile{out.data(), whole}, {}),
      KernelStatus::InputBoxTooSmall);
  EXPECT_EQ(out, std::vector<int8_t>(18, 9));
}

}  // namespace
}  // namespace mcusplit::kernels
