// TFLite int8 fixed-point arithmetic (the default, double-rounding variant of
// MultiplyByQuantizedMultiplier). Freestanding; quantize_multiplier is meant
// for the host (quantization time) but compiles anywhere <cmath> exists.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace mcusplit::core {

// round(a * b / 2^31), ties toward +infinity, saturating the single overflow
// case INT32_MIN * INT32_MIN. Same result as gemmlowp's truncating-division
// formulation with a sign-dependent nudge.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) {
    return std::numeric_limits<int32_t>::max();
  }
  const int64_t product = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = product >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((product + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero. exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * multiplier * 2^shift / 2^31 with TFLite's rounding: a positive shift is
// applied as a left shift before the high multiply, a negative one as a
// rounding right shift after it. The left shift wraps like TFLite's int32
// multiply would (it never overflows for sane quantization parameters).
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier),
                                right_shift);
}

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31 mantissa in [2^30, 2^31) (or 0)
  int shift = 0;           // power of two exponent, positive = left
};

// real = multiplier * 2^(shift - 31), as TFLite's QuantizeMultiplier: frexp
// mantissa rounded to Q31, renormalised if rounding reached 1.0, tiny values
// flushed to zero and shifts above 30 saturated.
inline QuantizedMultiplier quantize_multiplier(double real) {
  QuantizedMultiplier result;
  if (real == 0.0) return result;
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);
  auto q_fixed = static_cast<int64_t>(std::round(mantissa * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) {
    exponent = 0;
    q_fixed = 0;
  }
  if (exponent > 30) {
    exponent = 30;
    q_fixed = (int64_t{1} << 31) - 1;
  }
  result.multiplier = static_cast<int32_t>(q_fixed);
  result.shift = exponent;
  return result;
}

}  // namespace mcusplit::core
