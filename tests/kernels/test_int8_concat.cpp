#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "int8_reference.h"
#include "int8_test_util.h"
#include "kernels/int8_concat.h"

namespace mcusplit::kernels {
namespace {

using testing::Rng;

TEST(Int8Concat, RandomCopiesMatchReference) {
  Rng rng(61);
  for (int i = 0; i < 400; ++i) {
    // The input occupies a slab of the output along one random axis.
    const reference::Shape in{rng.uniform(1, 12), rng.uniform(1, 8), rng.uniform(1, 8)};
    reference::Shape out_shape = in;
    Int8ConcatParams p;
    switch (rng.uniform(0, 2)) {
      case 0:
        out_shape.c += rng.uniform(0, 10);
        p.offset_c = rng.uniform(0, out_shape.c - in.c);
        break;
      case 1:
        out_shape.h += rng.uniform(0, 6);
        p.offset_y = rng.uniform(0, out_shape.h - in.h);
        break;
      default:
        out_shape.w += rng.uniform(0, 6);
        p.offset_x = rng.uniform(0, out_shape.w - in.w);
        break;
    }
    p.input = testing::to_core(in);
    p.output = testing::to_core(out_shape);
    const core::QuantParams in_q{0.01f * static_cast<float>(rng.uniform(1, 30)),
                                 rng.uniform(-128, 127)};
    const core::QuantParams out_q =
        rng.chance(0.4) ? in_q
                        : core::QuantParams{0.01f * static_cast<float>(rng.uniform(1, 30)),
                                            rng.uniform(-128, 127)};
    set_int8_concat_quantization(p, in_q, out_q);
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(in.size()));

    const Box copy = i % 3 == 0 ? core::full_box(p.input) : testing::random_box(rng, p.input);
    const Box in_box = rng.chance(0.5) ? copy : testing::grow_box(rng, copy, p.input);
    const Box dest{copy.c0 + p.offset_c, copy.c1 + p.offset_c, copy.y0 + p.offset_y,
                   copy.y1 + p.offset_y, copy.x0 + p.offset_x, copy.x1 + p.offset_x};
    EXPECT_EQ(required_input_box(p, dest), copy);
    const Box out_box = rng.chance(0.5) ? dest : testing::grow_box(rng, dest, p.output);
    // Expected output tensor: requantized input where copied, sentinel elsewhere.
    std::vector<int8_t> expected(static_cast<size_t>(out_shape.size()), testing::kSentinel);
    for (int y = copy.y0; y < copy.y1; ++y) {
      for (int x = copy.x0; x < copy.x1; ++x) {
        for (int c = copy.c0; c < copy.c1; ++c) {
          expected[out_shape.index(c + p.offset_c, y + p.offset_y, x + p.offset_x)] =
              reference::requantize(input[in.index(c, y, x)], p.input_zero_point,
                                    p.output_zero_point, p.multiplier, p.shift);
        }
      }
    }
    const std::vector<int8_t> tile = testing::extract(input, in, in_box);
    testing::OutputBuffer out(rng, out_box);
    // Concat states no scratch and runs with none.
    ASSERT_EQ(int8_concat_scratch_bytes(p, copy), 0);
    testing::GuardedScratch scratch(0);
    ASSERT_EQ(int8_concat(p, {tile.data(), in_box}, copy,
                          {out.data.data(), out_box, out.pixel_stride, out.row_stride},
                          scratch.scratch()),
              KernelStatus::Ok);
    EXPECT_TRUE(scratch.guard_intact());
    SCOPED_TRACE("case " + std::to_string(i));
    testing::expect_matches(expected, out_shape, out);
    if (HasFailure()) return;
  }
}

TEST(Int8Concat, EqualQuantizationCopiesExactly) {
  Int8ConcatParams p;
  set_int8_concat_quantization(p, {0.5f, 7}, {0.5f, 7});
  EXPECT_EQ(p.multiplier, 1 << 30);
  EXPECT_EQ(p.shift, 1);
  p.input = {2, 1, 2};
  p.output = {5, 1, 2};
  p.offset_c = 3;
  const std::vector<int8_t> in = {-128, 127, 0, -1};
  std::vector<int8_t> out(10, 0);
  ASSERT_EQ(int8_concat(p, {in.data(), {0, 2, 0, 1, 0, 2}}, {0, 2, 0, 1, 0, 2},
                        {out.data(), {0, 5, 0, 1, 0, 2}}, {}),
            KernelStatus::Ok);
  EXPECT_EQ(out, (std::vector<int8_t>{0, 0, 0, -128, 127, 0, 0, 0, 0, -1}));
}

TEST(Int8Concat, RefusesCopiesOutsideItsTiles) {
  Int8ConcatParams p;
  p.input = {2, 2, 2};
  p.output = {4, 2, 2};
  p.offset_c = 2;
  std::vector<int8_t> in(8), out(16);
  const Box full_in{0, 2, 0, 2, 0, 2};
  EXPECT_EQ(int8_concat(p, {in.data(), {0, 2, 0, 1, 0, 2}}, full_in,
                        {out.data(), {0, 4, 0, 2, 0, 2}}, {}),
            KernelStatus::InputBoxTooSmall);
  EXPECT_EQ(int8_concat(p, {in.data(), full_in}, full_in, {out.data(), {0, 3, 0, 2, 0, 2}}, {}),
            KernelStatus::BadParams);
  p.offset_c = 3;  // input would stick out of the output
  EXPECT_EQ(int8_concat(p, {in.data(), full_in}, full_in, {out.data(), {0, 4, 0, 2, 0, 2}}, {}),
            KernelStatus::BadParams);
  EXPECT_FALSE(input_placed_inside_output(p));
  // Offsets near the int32 limits are refused by comparison, never shifted
  // (fuzz_device_image: the shift overflowed, UBSan).
  for (const int32_t offset : {INT32_MIN, -1, INT32_MAX}) {
    p.offset_c = offset;
    EXPECT_FALSE(input_placed_inside_output(p)) << offset;
    EXPECT_EQ(int8_concat(p, {in.data(), full_in}, full_in, {out.data(), {0, 4, 0, 2, 0, 2}}, {}),
              KernelStatus::BadParams)
        << offset;
  }
  p.offset_c = 2;
  EXPECT_TRUE(input_placed_inside_output(p));
}

// An empty output box reads nothing, whatever coordinates it holds: they are
// not shifted (an empty op box at INT32_MIN overflowed under UBSan when a
// device image's op was checked; fuzz_device_image).
TEST(Int8Concat, AnEmptyOutputBoxNeedsNoInput) {
  Int8ConcatParams p;
  p.input = {2, 2, 2};
  p.output = {4, 2, 2};
  p.offset_c = 2;
  EXPECT_EQ(required_input_box(p, Box{INT32_MIN, INT32_MIN, 0, 1, 0, 1}), Box{});
  EXPECT_EQ(required_input_box(p, Box{2, 4, 0, 2, 0, 2}), (Box{0, 2, 0, 2, 0, 2}));
}

}  // namespace
}  // namespace mcusplit::kernels
