#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/fixed_point.h"
#include "core/quant_params.h"
#include "int8_reference.h"
#include "int8_test_util.h"

namespace mcusplit::core {
namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

TEST(FixedPoint, HighMulSaturatesOnlyMinTimesMin) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMax), -kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMax, kMin), -kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMax, kMax), kMax - 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, -kMax), kMax);
}

TEST(FixedPoint, HighMulRoundsHalvesTowardPlusInfinity) {
  // a * 2^30 / 2^31 = a / 2.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);    // 0.5
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);   // -0.5
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);  // -2.5
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-7, 1 << 29), -2);  // -1.75
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-5, 1 << 29), -1);  // -1.25
  EXPECT_EQ(saturating_rounding_doubling_high_mul(0, kMin), 0);
}

TEST(FixedPoint, RoundingDivideByPotRoundsHalvesAwayFromZero) {
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);
  EXPECT_EQ(rounding_divide_by_pot(-4, 1), -2);
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // -1.5
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);  // -1.75
  EXPECT_EQ(rounding_divide_by_pot(-5, 2), -1);  // -1.25
  EXPECT_EQ(rounding_divide_by_pot(6, 2), 2);    // 1.5
  EXPECT_EQ(rounding_divide_by_pot(123, 0), 123);
  EXPECT_EQ(rounding_divide_by_pot(kMin, 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(kMax, 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(-(1 << 30), 31), -1);  // -0.5 -> -1
  EXPECT_EQ(rounding_divide_by_pot((1 << 30) - 1, 31), 0);
}

TEST(FixedPoint, MultiplyByQuantizedMultiplierShifts) {
  // Times 1.0 is exact while the left shift by one cannot overflow.
  for (int32_t x : {0, 1, -1, 77, -77, 1 << 29, -(1 << 29), (1 << 30) - 1, -(1 << 30)}) {
    EXPECT_EQ(multiply_by_quantized_multiplier(x, 1 << 30, 1), x) << x;
  }
  // Beyond that the int32 left shift wraps, as in TFLite.
  EXPECT_EQ(multiply_by_quantized_multiplier(kMax, 1 << 30, 1), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier(100, 1 << 30, 3), 400);  // 0.5 * 8
  EXPECT_EQ(multiply_by_quantized_multiplier(100, 1 << 30, -2), 13);  // 12.5 -> 13
  EXPECT_EQ(multiply_by_quantized_multiplier(-100, 1 << 30, -2), -13);
  EXPECT_EQ(multiply_by_quantized_multiplier(-3, 1 << 30, 0), -1);   // high mul: -1.5 -> -1
  EXPECT_EQ(multiply_by_quantized_multiplier(-6, 1 << 30, -1), -2);  // -3 / 2 -> -2
}

TEST(FixedPoint, QuantizeMultiplierMatchesTflite) {
  EXPECT_EQ(quantize_multiplier(0.0).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(0.0).shift, 0);
  EXPECT_EQ(quantize_multiplier(1.0).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(1.0).shift, 1);
  EXPECT_EQ(quantize_multiplier(0.5).shift, 0);
  EXPECT_EQ(quantize_multiplier(0.25).shift, -1);
  EXPECT_EQ(quantize_multiplier(0.75).multiplier, 3 << 29);
  // Mantissa rounding up to 1.0 renormalises.
  const auto almost_one = quantize_multiplier(1.0 - std::ldexp(1.0, -40));
  EXPECT_EQ(almost_one.multiplier, 1 << 30);
  EXPECT_EQ(almost_one.shift, 1);
  // Tiny values flush to zero, huge ones saturate.
  EXPECT_EQ(quantize_multiplier(1e-12).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(1e-12).shift, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, 40)).multiplier, kMax);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, 40)).shift, 30);
  // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4.
  EXPECT_EQ(quantize_multiplier(0.1).multiplier, 1717986918);
  EXPECT_EQ(quantize_multiplier(0.1).shift, -3);
}

TEST(FixedPoint, ActivationRangeClampsReluBounds) {
  const QuantParams q{6.0f / 255.0f, -128};
  const ActivationRange relu6 = quantized_activation_range(q, 0.0f, 6.0f);
  EXPECT_EQ(relu6.min, -128);
  EXPECT_EQ(relu6.max, 127);
  const ActivationRange relu = quantized_activation_range({0.1f, -20}, 0.0f, INFINITY);
  EXPECT_EQ(relu.min, -20);
  EXPECT_EQ(relu.max, 127);
  const ActivationRange narrow = quantized_activation_range({0.1f, 0}, -1.0f, 1.0f);
  EXPECT_EQ(narrow.min, -10);
  EXPECT_EQ(narrow.max, 10);
}

TEST(FixedPoint, QuantizedMultiplierApproximatesReal) {
  testing::Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    const double real =
        std::ldexp(1.0 + rng.uniform(0, 1 << 20) / double(1 << 20), rng.uniform(-20, 10));
    const auto q = quantize_multiplier(real);
    EXPECT_NEAR(std::ldexp(double(q.multiplier), q.shift - 31), real, real * 1e-9);
  }
}

TEST(FixedPoint, AgreesWithInt64ReferenceOnRandomInputs) {
  std::mt19937 gen(12345);
  std::uniform_int_distribution<int32_t> any(kMin, kMax);
  std::uniform_int_distribution<int32_t> small(-300000, 300000);
  std::uniform_int_distribution<int32_t> q31(1 << 30, kMax);
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = i % 2 ? any(gen) : small(gen);
    const int32_t b = i % 3 ? any(gen) : q31(gen);
    ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), reference::srdhm(a, b)) << a << " " << b;
    const int e = static_cast<int>(gen() % 32);
    ASSERT_EQ(rounding_divide_by_pot(a, e), reference::rounding_shift_right(a, e)) << a << " " << e;
    const int shift = static_cast<int>(gen() % 36) - 31;  // [-31, 4]
    const int32_t x = shift > 0 ? small(gen) : a;         // keep the left shift in range
    const int32_t m = q31(gen);
    ASSERT_EQ(multiply_by_quantized_multiplier(x, m, shift), reference::mbqm(x, m, shift))
        << x << " " << m << " " << shift;
  }
}

}  // namespace
}  // namespace mcusplit::core
