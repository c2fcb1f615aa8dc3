#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "int8_reference.h"
#include "int8_test_util.h"
#include "kernels/int8_add.h"

namespace mcusplit::kernels {
namespace {

using testing::GuardedScratch;
using testing::Rng;

float random_scale(Rng& rng) {
  return static_cast<float>(std::ldexp(1.0 + rng.uniform(0, 999) / 1000.0, rng.uniform(-9, -2)));
}

TEST(Int8Add, ParamsFollowTfliteAddPrepare) {
  const core::QuantParams q{0.05f, 3};
  const Int8AddParams p = make_int8_add_params({4, 2, 2}, q, q, q, {});
  EXPECT_EQ(p.input1_offset, -3);
  EXPECT_EQ(p.output_offset, 3);
  EXPECT_EQ(p.input1_multiplier, 1 << 30);  // 0.5
  EXPECT_EQ(p.input1_shift, 0);
  EXPECT_EQ(p.output_multiplier, 1 << 30);  // 2 / 2^20 = 0.5 * 2^-18
  EXPECT_EQ(p.output_shift, -18);
}

TEST(Int8Add, RandomBoxesMatchReference) {
  Rng rng(31);
  for (int i = 0; i < 300; ++i) {
    // The last cases are large enough (>= 1024 values per box) for the
    // kernel's rescale tables; the others take the direct path.
    const reference::Shape shape =
        i < 250 ? reference::Shape{rng.uniform(1, 19), rng.uniform(1, 9), rng.uniform(1, 9)}
                : reference::Shape{rng.uniform(16, 40), rng.uniform(8, 16), rng.uniform(8, 16)};
    const TensorShape3 core_shape = testing::to_core(shape);
    const core::QuantParams q1{random_scale(rng), rng.uniform(-128, 127)};
    const core::QuantParams q2{random_scale(rng), rng.uniform(-128, 127)};
    const core::QuantParams qo{random_scale(rng), rng.uniform(-128, 127)};
    ActivationRange act;
    if (rng.chance(0.3)) act = {rng.uniform(-128, 0), rng.uniform(0, 127)};
    const Int8AddParams p = make_int8_add_params(core_shape, q1, q2, qo, act);

    reference::AddSpec s;
    s.in1_zp = q1.zero_point;
    s.in2_zp = q2.zero_point;
    s.out_zp = qo.zero_point;
    s.left_shift = p.left_shift;
    s.m1 = p.input1_multiplier;
    s.s1 = p.input1_shift;
    s.m2 = p.input2_multiplier;
    s.s2 = p.input2_shift;
    s.mo = p.output_multiplier;
    s.so = p.output_shift;
    s.act_min = act.min;
    s.act_max = act.max;
    const std::vector<int8_t> a = rng.int8s(static_cast<size_t>(shape.size()));
    const std::vector<int8_t> b = rng.int8s(static_cast<size_t>(shape.size()));
    const std::vector<int8_t> expected = reference::add(s, a, b);

    const Box out_box =
        i % 4 == 0 ? core::full_box(core_shape) : testing::random_box(rng, core_shape);
    const Box box1 = rng.chance(0.5) ? out_box : testing::grow_box(rng, out_box, core_shape);
    const Box box2 = rng.chance(0.5) ? out_box : testing::grow_box(rng, out_box, core_shape);
    const std::vector<int8_t> tile1 = testing::extract(a, shape, box1);
    const std::vector<int8_t> tile2 = testing::extract(b, shape, box2);
    testing::OutputBuffer out(rng, out_box);
    const OutputTile out_tile{out.data.data(), out_box, out.pixel_stride, out.row_stride};
    // Exactly the stated scratch is enough and nothing lands past it.
    const int32_t stated = int8_add_scratch_bytes(p, out_box);
    EXPECT_EQ(stated, out_box.volume() >= 1024 ? 2048 : 0);
    GuardedScratch scratch(stated);
    ASSERT_EQ(int8_add(p, {tile1.data(), box1}, {tile2.data(), box2}, out_tile, scratch.scratch()),
              KernelStatus::Ok);
    EXPECT_TRUE(scratch.guard_intact());
    SCOPED_TRACE("case " + std::to_string(i));
    testing::expect_matches(expected, shape, out);
    if (stated > 0) {
      GuardedScratch short_scratch(stated - 1);
      EXPECT_EQ(int8_add(p, {tile1.data(), box1}, {tile2.data(), box2}, out_tile,
                         short_scratch.scratch()),
                KernelStatus::BadParams);
      EXPECT_TRUE(short_scratch.guard_intact());
    }
    if (HasFailure()) return;
  }
}

TEST(Int8Add, InputNotCoveringTheOutputBoxIsRefused) {
  const core::QuantParams q{0.1f, 0};
  const Int8AddParams p = make_int8_add_params({2, 3, 3}, q, q, q, {});
  const std::vector<int8_t> a(18, 1), b(12, 2);
  std::vector<int8_t> out(18);
  const Box full{0, 2, 0, 3, 0, 3};
  EXPECT_EQ(int8_add(p, {a.data(), full}, {b.data(), {0, 2, 0, 2, 0, 3}}, {out.data(), full}, {}),
            KernelStatus::InputBoxTooSmall);
  EXPECT_EQ(int8_add(p, {a.data(), full}, {b.data(), {0, 2, 0, 2, 0, 3}},
                     {out.data(), {0, 2, 0, 2, 0, 3}}, {}),
            KernelStatus::Ok);
  EXPECT_EQ(out[0], 3);
}

TEST(Int8Add, StatesTheTablesOnlyForLargeBoxes) {
  const core::QuantParams q{0.1f, 0};
  const Int8AddParams p = make_int8_add_params({4, 16, 16}, q, q, q, {});
  EXPECT_EQ(int8_add_scratch_bytes(p, {0, 4, 0, 16, 0, 16}), 2048);  // 1024 values
  EXPECT_EQ(int8_add_scratch_bytes(p, {0, 4, 0, 16, 0, 15}), 0);     // 960
  EXPECT_EQ(int8_add_scratch_bytes(p, {0, 1, 0, 32, 0, 32}), 2048);
  EXPECT_EQ(int8_add_scratch_bytes(p, Box{}), 0);
}

}  // namespace
}  // namespace mcusplit::kernels
