#include "kernels/int8_softmax.h"

#include <cmath>

namespace mcusplit::kernels {

namespace {

// Q formats of TFLite's int8 softmax: the rescaled differences are Q5.26, the
// sum of exps Q12.19, exps and the reciprocal Q0.31.
constexpr int kDiffIntegerBits = 5;
constexpr int kSumIntegerBits = 12;

using core::rounding_divide_by_pot;
using core::saturating_rounding_doubling_high_mul;

// x * 2^exponent (exponent in [1, 30]), saturating: gemmlowp's
// SaturatingRoundingMultiplyByPOT for a positive exponent.
int32_t saturating_shift_left(int32_t x, int exponent) {
  const int32_t limit = (int32_t{1} << (31 - exponent)) - 1;
  if (x > limit) return INT32_MAX;
  if (x < -limit) return INT32_MIN;
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

// x / 2^exponent rounded half away from zero, for any exponent >= 0: past 31
// every int32 rounds to 0 (gemmlowp leaves such shifts undefined; they occur
// only when the sum of exps reaches 512).
int32_t rounding_divide_wide(int32_t x, int exponent) {
  return exponent > 31 ? 0 : rounding_divide_by_pot(x, exponent);
}

// exp(a) for a in [-1/4, 0), Q0.31 in and out: the Taylor series around -1/8
// to the fourth power.
int32_t exp_on_quarter_interval(int32_t a) {
  constexpr int32_t kExpMinusOneEighth = 1895147668;  // exp(-1/8) in Q0.31
  constexpr int32_t kOneThird = 715827883;            // 1/3 in Q0.31
  const int32_t x = a + (int32_t{1} << 28);           // a + 1/8
  const int32_t x2 = saturating_rounding_doubling_high_mul(x, x);
  const int32_t x3 = saturating_rounding_doubling_high_mul(x2, x);
  const int32_t x4 = saturating_rounding_doubling_high_mul(x2, x2);
  const int32_t x4_over_4 = rounding_divide_by_pot(x4, 2);
  // (x^4/4 + x^3) / 3 + x^2, halved: x^4/24 + x^3/6 + x^2/2.
  const int32_t higher_terms = rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(x4_over_4 + x3, kOneThird) + x2, 1);
  return kExpMinusOneEighth +
         saturating_rounding_doubling_high_mul(kExpMinusOneEighth, x + higher_terms);
}

// exp(a) for a <= 0 in Q5.26, result Q0.31: a is split into its remainder
// modulo 1/4 (the series above) and the bits of 1/4, 1/2, ..., 16, each
// multiplying the result by exp(-2^k).
int32_t exp_on_negative_values(int32_t a) {
  constexpr int kFractionalBits = 31 - kDiffIntegerBits;
  constexpr int32_t kOneQuarter = int32_t{1} << (kFractionalBits - 2);
  // exp(-2^k) in Q0.31 for k = -2 .. 4.
  constexpr int32_t kExpMinusPowersOfTwo[] = {1672461947, 1302514674, 790015084, 290630308,
                                              39332535,   720401,     242};
  const int32_t remainder_minus_quarter = (a & (kOneQuarter - 1)) - kOneQuarter;
  int32_t result =
      exp_on_quarter_interval(saturating_shift_left(remainder_minus_quarter, kDiffIntegerBits));
  const int32_t whole_quarters = remainder_minus_quarter - a;
  for (int k = 0; k < 7; ++k) {
    if ((whole_quarters & (int32_t{1} << (kFractionalBits - 2 + k))) != 0) {
      result = saturating_rounding_doubling_high_mul(result, kExpMinusPowersOfTwo[k]);
    }
  }
  return a == 0 ? INT32_MAX : result;
}

// 1 / (1 + a) for a in [0, 1), Q0.31 in and out: three Newton-Raphson steps
// on the half denominator from the 48/17 - 32/17 x estimate (Q2.29).
int32_t one_over_one_plus(int32_t a) {
  const int64_t sum = int64_t{a} + INT32_MAX;
  const auto half_denominator = static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
  constexpr int32_t k48Over17 = 1515870810;
  constexpr int32_t kMinus32Over17 = -1010580540;
  constexpr int32_t kOneQ2 = int32_t{1} << 29;
  int32_t x = k48Over17 + saturating_rounding_doubling_high_mul(half_denominator, kMinus32Over17);
  for (int i = 0; i < 3; ++i) {
    const int32_t error = kOneQ2 - saturating_rounding_doubling_high_mul(half_denominator, x);
    x = x + saturating_shift_left(saturating_rounding_doubling_high_mul(x, error), 2);
  }
  // x is 2 / (1 + a) in Q2.29; halved it is Q1.30 of the same raw value.
  return saturating_shift_left(x, 1);
}

int count_leading_zeros(uint32_t x) {
  int n = 0;
  for (uint32_t bit = uint32_t{1} << 31; bit != 0 && (x & bit) == 0; bit >>= 1) ++n;
  return n;
}

// 1 / sum (sum in Q12.19, at least 1) as a Q0.31 mantissa and the power of
// two it was scaled by (TFLite's GetReciprocal).
struct Reciprocal {
  int32_t mantissa = 0;
  int bits_over_unit = 0;
};

Reciprocal reciprocal(int32_t sum) {
  const int headroom_plus_one = count_leading_zeros(static_cast<uint32_t>(sum));
  Reciprocal r;
  r.bits_over_unit = kSumIntegerBits - headroom_plus_one;
  const auto shifted_minus_one =
      static_cast<int32_t>((static_cast<uint32_t>(sum) << headroom_plus_one) - (uint32_t{1} << 31));
  r.mantissa = one_over_one_plus(shifted_minus_one);
  return r;
}

bool valid_softmax_params(const Int8SoftmaxParams& p) {
  return valid_shape(p.shape) && p.input_multiplier > 0 && p.input_left_shift >= 0 &&
         p.input_left_shift <= 31 && p.diff_min <= 0;
}

}  // namespace

Int8SoftmaxSetup make_int8_softmax_params(const TensorShape3& shape, double beta,
                                          double input_scale) {
  Int8SoftmaxSetup setup;
  const double max_multiplier = static_cast<double>((int64_t{1} << 31) - 1);
  double real = beta * input_scale * static_cast<double>(int64_t{1} << (31 - kDiffIntegerBits));
  if (real > max_multiplier) real = max_multiplier;
  if (!(real > 1.0)) return setup;
  const core::QuantizedMultiplier m = core::quantize_multiplier(real);
  if (m.shift < 0) return setup;
  Int8SoftmaxParams& p = setup.params;
  p.shape = shape;
  p.input_multiplier = m.multiplier;
  p.input_left_shift = m.shift;
  // The largest difference whose rescaled value still fits Q5.26, floored.
  const double radius = static_cast<double>((int64_t{1} << kDiffIntegerBits) - 1) *
                        static_cast<double>(int64_t{1} << (31 - kDiffIntegerBits)) /
                        static_cast<double>(int64_t{1} << m.shift);
  p.diff_min = -static_cast<int32_t>(std::floor(radius));
  setup.ok = true;
  return setup;
}

Box required_input_box(const Int8SoftmaxParams& p, const Box& out_box) {
  if (out_box.empty()) return Box{};
  return Box{0, p.shape.c, out_box.y0, out_box.y1, out_box.x0, out_box.x1};
}

int32_t int8_softmax_scratch_bytes(const Int8SoftmaxParams& /*p*/, const Box& /*out_box*/) {
  return 0;
}

KernelStatus int8_softmax(const Int8SoftmaxParams& p, const InputTile& in, const OutputTile& out,
                          Scratch /*scratch*/) {
  if (!valid_softmax_params(p)) return KernelStatus::BadParams;
  if (out.box.empty()) return KernelStatus::Ok;
  if (!core::inside(p.shape, out.box) || out.data == nullptr || !resolve_strides(out).ok) {
    return KernelStatus::BadParams;
  }
  if (!in.box.empty() && (!core::inside(p.shape, in.box) || in.data == nullptr)) {
    return KernelStatus::BadParams;
  }
  if (!core::contains(in.box, required_input_box(p, out.box))) {
    return KernelStatus::InputBoxTooSmall;
  }
  const ResolvedStrides os = resolve_strides(out);
  const int32_t depth = p.shape.c;
  const int32_t in_row = in.box.width() * depth;
  // exp(beta * input_scale * diff) in Q0.31 for a difference to the pixel's
  // maximum of at least diff_min (smaller ones count as 0).
  const auto exp_of_diff = [&p](int32_t diff) {
    const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(diff) << p.input_left_shift);
    return exp_on_negative_values(
        saturating_rounding_doubling_high_mul(shifted, p.input_multiplier));
  };
  for (int32_t y = out.box.y0; y < out.box.y1; ++y) {
    for (int32_t x = out.box.x0; x < out.box.x1; ++x) {
      const int8_t* pixel = in.data + (y - in.box.y0) * in_row + (x - in.box.x0) * depth;
      int32_t max = -128;
      for (int32_t c = 0; c < depth; ++c) max = pixel[c] > max ? pixel[c] : max;
      int32_t sum = 0;  // Q12.19
      for (int32_t c = 0; c < depth; ++c) {
        const int32_t diff = pixel[c] - max;
        if (diff >= p.diff_min) sum += rounding_divide_by_pot(exp_of_diff(diff), kSumIntegerBits);
      }
      const Reciprocal recip = reciprocal(sum);
      int8_t* out_pixel = out.data + (y - out.box.y0) * os.row + (x - out.box.x0) * os.pixel;
      for (int32_t c = out.box.c0; c < out.box.c1; ++c) {
        const int32_t diff = pixel[c] - max;
        int32_t v = -128;
        if (diff >= p.diff_min) {
          const int32_t scaled =
              saturating_rounding_doubling_high_mul(recip.mantissa, exp_of_diff(diff));
          // exp / sum in steps of 1/256 from -128.
          v = rounding_divide_wide(scaled, recip.bits_over_unit + 31 - 8) - 128;
          v = v > 127 ? 127 : v;
        }
        out_pixel[c - out.box.c0] = static_cast<int8_t>(v);
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
