// Slow reference for the int8 kernels, written straight from the TFLite int8
// spec formulas in 64-bit integers. Shares no code with src/kernels or
// src/core on purpose: tensors are whole NHWC vectors, loops are naive.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace mcusplit::reference {

// Floor division for a positive divisor.
inline int64_t floor_div(int64_t n, int64_t d) {
  const int64_t q = n / d;
  return (n % d != 0 && n < 0) ? q - 1 : q;
}

// Saturating rounding doubling high multiply: the nearest integer to
// a * b / 2^31, halves rounded toward +infinity; (-2^31)^2 saturates.
inline int64_t srdhm(int64_t a, int64_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return floor_div(a * b + (int64_t{1} << 30), int64_t{1} << 31);
}

// x / 2^exponent to the nearest integer, halves away from zero.
inline int64_t rounding_shift_right(int64_t x, int exponent) {
  const int64_t magnitude = x < 0 ? -x : x;
  const int64_t divisor = int64_t{1} << exponent;
  int64_t q = magnitude / divisor;
  if (2 * (magnitude % divisor) >= divisor) ++q;
  return x < 0 ? -q : q;
}

// The int32 left shift wraps modulo 2^32 (as an int32 multiply would).
inline int64_t wrap_int32(int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v) & 0xffffffffULL;
  return u >= 0x80000000ULL ? static_cast<int64_t>(u) - (int64_t{1} << 32)
                            : static_cast<int64_t>(u);
}

inline int64_t mbqm(int64_t x, int64_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int64_t shifted = wrap_int32(x * (int64_t{1} << left));
  return rounding_shift_right(srdhm(shifted, multiplier), right);
}

inline int8_t clamp8(int64_t v, int64_t lo, int64_t hi) {
  return static_cast<int8_t>(std::clamp<int64_t>(v, lo, hi));
}

// Integer division rounded half away from zero.
inline int64_t divide_round_half_away(int64_t n, int64_t d) {
  const int64_t magnitude = n < 0 ? -n : n;
  int64_t q = magnitude / d;
  if (2 * (magnitude % d) >= d) ++q;
  return n < 0 ? -q : q;
}

struct Shape {
  int c = 0, h = 0, w = 0;
  int64_t index(int c_, int y, int x) const { return (int64_t{y} * w + x) * c + c_; }
  int64_t size() const { return int64_t{c} * h * w; }
};

struct ConvSpec {
  Shape in, out;
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pad_top = 0, pad_left = 0, groups = 1;
  int in_zp = 0, out_zp = 0, act_min = -128, act_max = 127;
  std::vector<int8_t> weights;  // [Cout][kh][kw][Cin/groups]
  std::vector<int32_t> bias;    // [Cout] or empty
  std::vector<int32_t> mult, shift;
};

// Whole output tensor; a padded position is simply skipped.
inline std::vector<int8_t> conv(const ConvSpec& s, const std::vector<int8_t>& input) {
  std::vector<int8_t> out(static_cast<size_t>(s.out.size()));
  const int ipg = s.in.c / s.groups;
  const int opg = s.out.c / s.groups;
  for (int oy = 0; oy < s.out.h; ++oy) {
    for (int ox = 0; ox < s.out.w; ++ox) {
      for (int oc = 0; oc < s.out.c; ++oc) {
        int64_t acc = s.bias.empty() ? 0 : s.bias[oc];
        const int g = oc / opg;
        for (int ky = 0; ky < s.kh; ++ky) {
          for (int kx = 0; kx < s.kw; ++kx) {
            const int iy = oy * s.sh - s.pad_top + ky * s.dh;
            const int ix = ox * s.sw - s.pad_left + kx * s.dw;
            if (iy < 0 || iy >= s.in.h || ix < 0 || ix >= s.in.w) continue;
            for (int ci = 0; ci < ipg; ++ci) {
              const int64_t v = input[s.in.index(g * ipg + ci, iy, ix)];
              const int64_t w =
                  s.weights[((static_cast<size_t>(oc) * s.kh + ky) * s.kw + kx) * ipg + ci];
              acc += (v - s.in_zp) * w;
            }
          }
        }
        out[s.out.index(oc, oy, ox)] =
            clamp8(mbqm(acc, s.mult[oc], s.shift[oc]) + s.out_zp, s.act_min, s.act_max);
      }
    }
  }
  return out;
}

inline std::vector<int8_t> fully_connected(const std::vector<int8_t>& input,
                                           const std::vector<int8_t>& weights,
                                           const std::vector<int32_t>& bias,
                                           const std::vector<int32_t>& mult,
                                           const std::vector<int32_t>& shift, int in_zp, int out_zp,
                                           int act_min, int act_max) {
  const size_t k = input.size();
  const size_t n = weights.size() / k;
  std::vector<int8_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t acc = bias.empty() ? 0 : bias[i];
    for (size_t j = 0; j < k; ++j) acc += (int64_t{input[j]} - in_zp) * weights[i * k + j];
    out[i] = clamp8(mbqm(acc, mult[i], shift[i]) + out_zp, act_min, act_max);
  }
  return out;
}

struct AddSpec {
  int in1_zp = 0, in2_zp = 0, out_zp = 0, left_shift = 20;
  int64_t m1 = 0, m2 = 0, mo = 0;
  int s1 = 0, s2 = 0, so = 0;
  int act_min = -128, act_max = 127;
};

inline std::vector<int8_t> add(const AddSpec& s, const std::vector<int8_t>& a,
                               const std::vector<int8_t>& b) {
  std::vector<int8_t> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const int64_t x1 = mbqm((int64_t{a[i]} - s.in1_zp) << s.left_shift, s.m1, s.s1);
    const int64_t x2 = mbqm((int64_t{b[i]} - s.in2_zp) << s.left_shift, s.m2, s.s2);
    out[i] = clamp8(mbqm(x1 + x2, s.mo, s.so) + s.out_zp, s.act_min, s.act_max);
  }
  return out;
}

struct PoolSpec {
  Shape in, out;
  int kh = 1, kw = 1, sh = 1, sw = 1, pad_top = 0, pad_left = 0;
  int act_min = -128, act_max = 127;
};

inline std::vector<int8_t> pool(const PoolSpec& s, const std::vector<int8_t>& input, bool max) {
  std::vector<int8_t> out(static_cast<size_t>(s.out.size()));
  for (int oy = 0; oy < s.out.h; ++oy) {
    for (int ox = 0; ox < s.out.w; ++ox) {
      for (int c = 0; c < s.out.c; ++c) {
        int64_t best = -128, sum = 0, count = 0;
        for (int ky = 0; ky < s.kh; ++ky) {
          for (int kx = 0; kx < s.kw; ++kx) {
            const int iy = oy * s.sh - s.pad_top + ky;
            const int ix = ox * s.sw - s.pad_left + kx;
            if (iy < 0 || iy >= s.in.h || ix < 0 || ix >= s.in.w) continue;
            const int64_t v = input[s.in.index(c, iy, ix)];
            best = std::max(best, v);
            sum += v;
            ++count;
          }
        }
        const int64_t r = max ? best : divide_round_half_away(sum, count);
        out[s.out.index(c, oy, ox)] = clamp8(r, s.act_min, s.act_max);
      }
    }
  }
  return out;
}

// TFLite int8 Mean over H and W.
inline std::vector<int8_t> global_average_pool(const Shape& in, const std::vector<int8_t>& input,
                                               int in_zp, int out_zp, int64_t mult, int shift,
                                               int act_min, int act_max) {
  std::vector<int8_t> out(static_cast<size_t>(in.c));
  const int64_t count = int64_t{in.h} * in.w;
  for (int c = 0; c < in.c; ++c) {
    int64_t sum = 0;
    for (int y = 0; y < in.h; ++y) {
      for (int x = 0; x < in.w; ++x) sum += int64_t{input[in.index(c, y, x)]} - in_zp;
    }
    const int64_t scaled = mbqm(sum, mult, shift);
    out[c] = clamp8(divide_round_half_away(scaled, count) + out_zp, act_min, act_max);
  }
  return out;
}

// TFLite Requantize of one value.
inline int8_t requantize(int8_t v, int in_zp, int out_zp, int64_t mult, int shift) {
  return clamp8(mbqm(int64_t{v} - in_zp, mult, shift) + out_zp, -128, 127);
}

}  // namespace mcusplit::reference
