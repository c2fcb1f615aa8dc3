// Dot-product blocks of the packed (SMLAD) kernels, built on int8_packed.h.
//
// Columns (input vectors) are expanded once to int16 with the input offset
// added, in "packed order": each group of 4 values a0 a1 a2 a3 becomes the
// words (a0, a2) and (a1, a3), the lanes in which SXTB16 / SXTB16 ROR 8
// unpack 4 int8 weights, so one 32-bit load of a column meets one unpacked
// weight word without shuffling; the n % 4 tail is one value per word. A column is then
// reused against many weight rows (output channels) and a weight word against
// two columns (output pixels): 16 MACs per 2 weight loads, 4 unpacks and 4
// column loads, 8 SMLAD.
#pragma once

#include <cstdint>

#include "kernels/int8_packed.h"

namespace mcusplit::kernels::packed {

// Words of an expanded column of n values: 2 per group of 4, 1 per tail value.
constexpr int32_t column_words(int32_t n) {
  return n / 4 * 2 + n % 4;
}

// col[0, column_words(n)) = src[0, n) + offset, expanded: word 2g holds
// values 4g and 4g+2 as int16 lanes, word 2g+1 values 4g+1 and 4g+3; each
// tail value is one int32 word. offset in [-128, 128] (minus a zero point),
// so every value fits int16. Whole words, so the dot products' loads are
// aligned and pair into LDRD.
inline void expand_column(const int8_t* src, int32_t n, int32_t offset, uint32_t* col) {
  const uint32_t offsets = splat16(offset);
  int32_t i = 0;
  for (; i + 4 <= n; i += 4, col += 2) {
    const uint32_t v = load_s8x4(src + i);
    col[0] = sadd16(sxtb16(v), offsets);
    col[1] = sadd16(sxtb16_odd(v), offsets);
  }
  for (; i < n; ++i) *col++ = static_cast<uint32_t>(src[i] + offset);
}

inline int32_t tail_value(uint32_t word) {
  return static_cast<int32_t>(word);
}

// acc[2*c + r] += column c . weight row r, for 2 columns and 2 rows of n.
inline void mac_2x2(const uint32_t* col0, const uint32_t* col1, const int8_t* w0, const int8_t* w1,
                    int32_t n, int32_t* acc) {
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  // A down-counting loop over pointers: 2 instructions of loop control.
  for (int32_t groups = n >> 2; groups > 0; --groups, col0 += 2, col1 += 2, w0 += 4, w1 += 4) {
    const uint32_t c0e = col0[0];
    const uint32_t c0o = col0[1];
    const uint32_t c1e = col1[0];
    const uint32_t c1o = col1[1];
    const uint32_t v0 = load_s8x4(w0);
    const uint32_t w0e = sxtb16(v0);
    const uint32_t w0o = sxtb16_odd(v0);
    a00 = smlad(c0e, w0e, a00);
    a00 = smlad(c0o, w0o, a00);
    a10 = smlad(c1e, w0e, a10);
    a10 = smlad(c1o, w0o, a10);
    const uint32_t v1 = load_s8x4(w1);
    const uint32_t w1e = sxtb16(v1);
    const uint32_t w1o = sxtb16_odd(v1);
    a01 = smlad(c0e, w1e, a01);
    a01 = smlad(c0o, w1o, a01);
    a11 = smlad(c1e, w1e, a11);
    a11 = smlad(c1o, w1o, a11);
  }
  for (int32_t i = 0; i < (n & 3); ++i) {
    const int32_t x0 = tail_value(col0[i]);
    const int32_t x1 = tail_value(col1[i]);
    a00 = add_wrap(a00, x0 * w0[i]);
    a01 = add_wrap(a01, x0 * w1[i]);
    a10 = add_wrap(a10, x1 * w0[i]);
    a11 = add_wrap(a11, x1 * w1[i]);
  }
  acc[0] = a00;
  acc[1] = a01;
  acc[2] = a10;
  acc[3] = a11;
}

// column . weight row, n values.
inline int32_t mac_1x1(const uint32_t* col, const int8_t* w, int32_t n) {
  int32_t a = 0;
  int32_t i = 0;
  for (; i + 4 <= n; i += 4, col += 2) {
    const uint32_t v = load_s8x4(w + i);
    a = smlad(col[0], sxtb16(v), a);
    a = smlad(col[1], sxtb16_odd(v), a);
  }
  for (; i < n; ++i) a = add_wrap(a, tail_value(*col++) * w[i]);
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
