// kernels::requantize (the kernels' output stage, reformulated for fewer
// instructions) against core::multiply_by_quantized_multiplier + zero point
// + clamp, the definition it must reproduce bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "core/fixed_point.h"
#include "int8_test_util.h"
#include "kernels/int8_common.h"

namespace mcusplit::kernels {
namespace {

int8_t defined(int32_t acc, int32_t multiplier, int32_t shift, int32_t zp,
               const ActivationRange& act) {
  const int64_t v =
      int64_t{core::multiply_by_quantized_multiplier(acc, multiplier, static_cast<int>(shift))} +
      zp;
  return static_cast<int8_t>(v < act.min ? act.min : v > act.max ? act.max : v);
}

TEST(Int8Requantize, MatchesMultiplyByQuantizedMultiplier) {
  testing::Rng rng(11);
  const int32_t kMin = std::numeric_limits<int32_t>::min();
  const int32_t kMax = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> accs = {0, 1, -1, kMin, kMax, kMin + 1, kMax - 1, 1 << 30, -(1 << 30)};
  for (int i = 0; i < 200; ++i) accs.push_back(rng.uniform(-(1 << 20), 1 << 20));
  for (int i = 0; i < 50; ++i) accs.push_back(rng.uniform(kMin, kMax));
  std::vector<int32_t> multipliers = {0, 1, 1 << 30, kMax, kMin};
  for (int i = 0; i < 20; ++i) multipliers.push_back(rng.uniform(1 << 30, kMax));
  int64_t checked = 0, unclamped = 0;
  for (int32_t shift = -31; shift <= 30; ++shift) {
    for (int32_t m : multipliers) {
      for (int32_t acc : accs) {
        const int32_t zp = rng.uniform(-128, 127);
        const ActivationRange act =
            rng.chance(0.5) ? ActivationRange{} : ActivationRange{zp, rng.uniform(zp, 127)};
        // Adding the zero point would overflow int32 (undefined before and after).
        const int32_t scaled = core::multiply_by_quantized_multiplier(acc, m, shift);
        if (scaled > kMax - 128 || scaled < kMin + 128) continue;
        const int8_t want = defined(acc, m, shift, zp, act);
        ASSERT_EQ(requantize(acc, m, shift, zp, act), want)
            << "acc " << acc << " multiplier " << m << " shift " << shift << " zp " << zp;
        ++checked;
        unclamped += want > act.min && want < act.max ? 1 : 0;
      }
    }
  }
  // Enough results away from the clamp that the rounding is what is compared.
  EXPECT_GT(unclamped * 10, checked);
}

// Halfway cases of both roundings: x * m / 2^31 exactly halfway, and the
// rounding shift exactly halfway, for both signs.
TEST(Int8Requantize, MatchesOnTies) {
  for (int32_t shift = -12; shift <= 0; ++shift) {
    for (int32_t acc = -5000; acc <= 5000; ++acc) {
      for (int32_t m : {1 << 30, (1 << 30) + 1, (1 << 30) + (1 << 29)}) {
        ASSERT_EQ(requantize(acc, m, shift, 0, ActivationRange{}),
                  defined(acc, m, shift, 0, ActivationRange{}))
            << acc << " " << m << " " << shift;
      }
    }
  }
}

}  // namespace
}  // namespace mcusplit::kernels
