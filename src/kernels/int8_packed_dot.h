// Dot-product blocks of the packed (SMLAD) kernels, built on int8_packed.h.
//
// Columns (input vectors) are expanded once to int16 with the input offset
// added, in "packed order": each group of 4 values a0 a1 a2 a3 is stored as
// a0 a2 a1 a3, the lane order in which SXTB16 / SXTB16 ROR 8 unpack 4 int8
// weights, so one 32-bit load of a column meets one unpacked weight word
// without shuffling; the n % 4 tail is stored in plain order. A column is then
// reused against many weight rows (output channels) and a weight word against
// two columns (output pixels): 16 MACs per 2 weight loads, 4 unpacks and 4
// column loads, 8 SMLAD.
#pragma once

#include <cstdint>

#include "kernels/int8_packed.h"

namespace mcusplit::kernels::packed {

// dst[0, n) = src[0, n) + offset in packed order; offset in [-128, 128]
// (minus a zero point), so every value fits int16.
inline void expand_column(const int8_t* src, int32_t n, int32_t offset, int16_t* dst) {
  const uint32_t offsets = splat16(offset);
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t v = load_s8x4(src + i);
    store_s16x2(dst + i, sadd16(sxtb16(v), offsets));
    store_s16x2(dst + i + 2, sadd16(sxtb16_odd(v), offsets));
  }
  for (; i < n; ++i) dst[i] = static_cast<int16_t>(src[i] + offset);
}

// acc[2*c + r] += column c . weight row r, for 2 columns and 2 rows of n.
inline void mac_2x2(const int16_t* col0, const int16_t* col1, const int8_t* w0, const int8_t* w1,
                    int32_t n, int32_t* acc) {
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t c0e = load_s16x2(col0 + i);
    const uint32_t c0o = load_s16x2(col0 + i + 2);
    const uint32_t c1e = load_s16x2(col1 + i);
    const uint32_t c1o = load_s16x2(col1 + i + 2);
    const uint32_t v0 = load_s8x4(w0 + i);
    const uint32_t w0e = sxtb16(v0);
    const uint32_t w0o = sxtb16_odd(v0);
    a00 = smlad(c0e, w0e, a00);
    a00 = smlad(c0o, w0o, a00);
    a10 = smlad(c1e, w0e, a10);
    a10 = smlad(c1o, w0o, a10);
    const uint32_t v1 = load_s8x4(w1 + i);
    const uint32_t w1e = sxtb16(v1);
    const uint32_t w1o = sxtb16_odd(v1);
    a01 = smlad(c0e, w1e, a01);
    a01 = smlad(c0o, w1o, a01);
    a11 = smlad(c1e, w1e, a11);
    a11 = smlad(c1o, w1o, a11);
  }
  for (; i < n; ++i) {
    a00 = add_wrap(a00, col0[i] * w0[i]);
    a01 = add_wrap(a01, col0[i] * w1[i]);
    a10 = add_wrap(a10, col1[i] * w0[i]);
    a11 = add_wrap(a11, col1[i] * w1[i]);
  }
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
}

// column . weight row, n values.
inline int32_t mac_1x1(const int16_t* col, const int8_t* w, int32_t n) {
  int32_t a = 0;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t v = load_s8x4(w + i);
    a = smlad(load_s16x2(col + i), sxtb16(v), a);
    a = smlad(load_s16x2(col + i + 2), sxtb16_odd(v), a);
  }
  for (; i < n; ++i) a = add_wrap(a, col[i] * w[i]);
  return a;
}

// sum_i (a[i] + a_offset) * b[i] straight from int8 (no expanded column):
// for vectors used once, e.g. a fully connected layer's rows.
inline int32_t dot_s8_offset(const int8_t* a, const int8_t* b, int32_t n, int32_t a_offset) {
  const uint32_t offsets = splat16(a_offset);
  int32_t acc = 0;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t va = load_s8x4(a + i);
    const uint32_t vb = load_s8x4(b + i);
    acc = smlad(sadd16(sxtb16(va), offsets), sxtb16(vb), acc);
    acc = smlad(sadd16(sxtb16_odd(va), offsets), sxtb16_odd(vb), acc);
  }
  for (; i < n; ++i) acc = add_wrap(acc, (a[i] + a_offset) * b[i]);
  return acc;
}

}  // namespace mcusplit::kernels::packed
