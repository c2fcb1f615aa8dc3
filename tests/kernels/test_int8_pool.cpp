#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "int8_reference.h"
#include "int8_test_util.h"
#include "kernels/int8_global_average_pool.h"
#include "kernels/int8_pool.h"

namespace mcusplit::kernels {
namespace {

using testing::Rng;

reference::PoolSpec random_pool(Rng& rng) {
  for (;;) {
    reference::PoolSpec s;
    s.in = {rng.uniform(1, 11), rng.uniform(1, 11), rng.uniform(1, 11)};
    s.kh = rng.uniform(1, 4);
    s.kw = rng.uniform(1, 4);
    s.sh = rng.uniform(1, 3);
    s.sw = rng.uniform(1, 3);
    s.pad_top = rng.uniform(0, s.kh - 1);
    s.pad_left = rng.uniform(0, s.kw - 1);
    const int pad_bottom = rng.uniform(0, s.kh - 1), pad_right = rng.uniform(0, s.kw - 1);
    if (s.in.h + s.pad_top + pad_bottom < s.kh || s.in.w + s.pad_left + pad_right < s.kw) continue;
    s.out = {s.in.c, (s.in.h + s.pad_top + pad_bottom - s.kh) / s.sh + 1,
             (s.in.w + s.pad_left + pad_right - s.kw) / s.sw + 1};
    // As ONNX ceil_mode drops them: no window may start in the end padding.
    if ((s.out.h - 1) * s.sh - s.pad_top >= s.in.h) continue;
    if ((s.out.w - 1) * s.sw - s.pad_left >= s.in.w) continue;
    if (rng.chance(0.3)) {
      s.act_min = rng.uniform(-128, 0);
      s.act_max = rng.uniform(s.act_min, 127);
    }
    return s;
  }
}

Int8PoolParams to_params(const reference::PoolSpec& s) {
  Int8PoolParams p;
  p.input = testing::to_core(s.in);
  p.output = testing::to_core(s.out);
  p.kernel_h = s.kh;
  p.kernel_w = s.kw;
  p.stride_h = s.sh;
  p.stride_w = s.sw;
  p.pad_top = s.pad_top;
  p.pad_left = s.pad_left;
  p.activation = {s.act_min, s.act_max};
  return p;
}

void run_pool_cases(bool max, uint32_t seed) {
  Rng rng(seed);
  for (int i = 0; i < 300; ++i) {
    const reference::PoolSpec s = random_pool(rng);
    const Int8PoolParams p = to_params(s);
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(s.in.size()));
    const std::vector<int8_t> expected = reference::pool(s, input, max);
    const Box out_box = i % 3 == 0 ? core::full_box(p.output) : testing::random_box(rng, p.output);
    const Box required = required_input_box(p, out_box);
    const Box in_box = rng.chance(0.5) ? required : testing::grow_box(rng, required, p.input);
    const std::vector<int8_t> tile = testing::extract(input, s.in, in_box);
    testing::OutputBuffer out(rng, out_box);
    const OutputTile out_tile{out.data.data(), out_box, out.pixel_stride, out.row_stride};
    // The pools state no scratch and run with none.
    const int32_t stated =
        max ? int8_max_pool_scratch_bytes(p, out_box) : int8_average_pool_scratch_bytes(p, out_box);
    ASSERT_EQ(stated, 0);
    testing::GuardedScratch scratch(stated);
    ASSERT_EQ(max ? int8_max_pool(p, {tile.data(), in_box}, out_tile, scratch.scratch())
                  : int8_average_pool(p, {tile.data(), in_box}, out_tile, scratch.scratch()),
              KernelStatus::Ok);
    EXPECT_TRUE(scratch.guard_intact());
    SCOPED_TRACE("case " + std::to_string(i) + " out " + testing::describe(out_box));
    testing::expect_matches(expected, s.out, out);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(Int8Pool, MaxRandomBoxesMatchReference) {
  run_pool_cases(true, 41);
}
TEST(Int8Pool, AverageRandomBoxesMatchReference) {
  run_pool_cases(false, 42);
}

TEST(Int8Pool, AverageRoundsHalfAwayFromZeroOverRealCells) {
  // 1 channel 2x2 input, 2x2 window, pad 1 top/left: the first output sees one cell.
  Int8PoolParams p;
  p.input = {1, 2, 2};
  p.output = {1, 2, 2};
  p.kernel_h = p.kernel_w = 2;
  p.pad_top = p.pad_left = 1;
  const std::vector<int8_t> in = {-3, -2, 5, 7};
  std::vector<int8_t> out(4);
  const Box box{0, 1, 0, 2, 0, 2};
  ASSERT_EQ(int8_average_pool(p, {in.data(), box}, {out.data(), box}, {}), KernelStatus::Ok);
  // (-3), (-3-2)/2=-2.5->-3, (-3+5)/2=1, (-3-2+5+7)/4=1.75->2
  EXPECT_EQ(out, (std::vector<int8_t>{-3, -3, 1, 2}));
}

TEST(Int8Pool, TooSmallInputAndEmptyWindowsAreRefused) {
  Int8PoolParams p;
  p.input = {2, 5, 5};
  p.output = {2, 3, 3};
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = 1;
  const Box out_box{0, 2, 1, 3, 0, 3};
  const Box required = required_input_box(p, out_box);
  EXPECT_EQ(required, (Box{0, 2, 1, 5, 0, 5}));
  std::vector<int8_t> in(50), out(18);
  const Box small{0, 2, 2, 5, 0, 5};
  EXPECT_EQ(int8_max_pool(p, {in.data(), small}, {out.data(), out_box}, {}),
            KernelStatus::InputBoxTooSmall);
  EXPECT_EQ(int8_average_pool(p, {in.data(), {0, 1, 1, 5, 0, 5}}, {out.data(), out_box}, {}),
            KernelStatus::InputBoxTooSmall);
  p.pad_top = 3;  // first window entirely padding
  EXPECT_EQ(int8_average_pool(p, {in.data(), {0, 2, 0, 5, 0, 5}}, {out.data(), out_box}, {}),
            KernelStatus::BadParams);
}

TEST(Int8GlobalAveragePool, RandomChannelSlicesMatchReference) {
  Rng rng(51);
  for (int i = 0; i < 300; ++i) {
    const reference::Shape in{rng.uniform(1, 80), rng.uniform(1, 9), rng.uniform(1, 9)};
    Int8GlobalAveragePoolParams p;
    p.input = testing::to_core(in);
    p.input_zero_point = rng.uniform(-128, 127);
    p.output_zero_point = rng.uniform(-128, 127);
    if (rng.chance(0.7)) {
      const core::QuantParams qi{0.02f + static_cast<float>(rng.uniform(0, 100)) * 1e-3f,
                                 p.input_zero_point};
      const core::QuantParams qo{0.02f + static_cast<float>(rng.uniform(0, 100)) * 1e-3f,
                                 p.output_zero_point};
      p = make_int8_global_average_pool_params(p.input, qi, qo);
    }  // else: identity multiplier
    if (rng.chance(0.3)) p.activation = {rng.uniform(-128, 0), rng.uniform(0, 127)};
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(in.size()));
    const std::vector<int8_t> expected =
        reference::global_average_pool(in, input, p.input_zero_point, p.output_zero_point,
                                       p.multiplier, p.shift, p.activation.min, p.activation.max);
    const TensorShape3 out_shape{in.c, 1, 1};
    const Box out_box =
        i % 3 == 0 ? core::full_box(out_shape) : testing::random_box(rng, out_shape);
    const Box required = required_input_box(p, out_box);
    ASSERT_EQ(required, (Box{out_box.c0, out_box.c1, 0, in.h, 0, in.w}));
    const Box in_box = rng.chance(0.5) ? required : testing::grow_box(rng, required, p.input);
    const std::vector<int8_t> tile = testing::extract(input, in, in_box);
    testing::OutputBuffer out(rng, out_box, false);
    // Exactly the stated scratch: running sums of up to 64 channels.
    const int32_t stated = int8_global_average_pool_scratch_bytes(p, out_box);
    EXPECT_EQ(stated, 4 * std::min(64, out_box.channels()));
    testing::GuardedScratch scratch(stated);
    ASSERT_EQ(int8_global_average_pool(p, {tile.data(), in_box}, {out.data.data(), out_box},
                                       scratch.scratch()),
              KernelStatus::Ok);
    EXPECT_TRUE(scratch.guard_intact());
    SCOPED_TRACE("case " + std::to_string(i));
    testing::expect_matches(expected, reference::Shape{in.c, 1, 1}, out);
    testing::GuardedScratch short_scratch(stated - 1);
    EXPECT_EQ(int8_global_average_pool(p, {tile.data(), in_box}, {out.data.data(), out_box},
                                       short_scratch.scratch()),
              KernelStatus::BadParams);
    EXPECT_TRUE(short_scratch.guard_intact());
    if (HasFailure()) return;
  }
}

TEST(Int8GlobalAveragePool, NeedsEveryRowAndColumn) {
  Int8GlobalAveragePoolParams p;
  p.input = {3, 4, 4};
  std::vector<int8_t> in(48), out(3);
  EXPECT_EQ(int8_global_average_pool_scratch_bytes(p, {0, 3, 0, 1, 0, 1}), 12);
  testing::GuardedScratch scratch(12);
  EXPECT_EQ(int8_global_average_pool(p, {in.data(), {0, 3, 0, 4, 0, 3}},
                                     {out.data(), {0, 3, 0, 1, 0, 1}}, scratch.scratch()),
            KernelStatus::InputBoxTooSmall);
  EXPECT_EQ(int8_global_average_pool(p, {in.data(), {0, 3, 0, 4, 0, 4}},
                                     {out.data(), {0, 3, 0, 1, 0, 1}}, scratch.scratch()),
            KernelStatus::Ok);
  EXPECT_EQ(int8_global_average_pool_scratch_bytes(p, Box{}), 0);
  EXPECT_EQ(int8_global_average_pool_scratch_bytes(p, {0, 100, 0, 1, 0, 1}), 256);
}

}  // namespace
}  // namespace mcusplit::kernels
