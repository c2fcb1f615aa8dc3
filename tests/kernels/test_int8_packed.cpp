// The packed 16-bit primitives (kernels/int8_packed.h) and dot-product blocks
// (kernels/int8_packed_dot.h) against plain integer loops. On the host these
// are the portable formulations of SXTB16/SADD16/SMLAD/SMLABB/SMLATT; the
// firmware kernel bench checks the instructions themselves.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "int8_test_util.h"
#include "kernels/int8_packed.h"
#include "kernels/int8_packed_dot.h"

namespace mcusplit::kernels::packed {
namespace {

using testing::Rng;

uint32_t word(Rng& rng) {
  return static_cast<uint32_t>(rng.uniform(0, 0xffff)) << 16 |
         static_cast<uint32_t>(rng.uniform(0, 0xffff));
}

int32_t byte(uint32_t w, int i) {
  return static_cast<int8_t>(static_cast<uint8_t>(w >> (8 * i)));
}

TEST(Int8Packed, UnpackSignExtendsEvenAndOddBytes) {
  Rng rng(1);
  std::vector<uint32_t> words = {0u, 0xffffffffu, 0x80808080u, 0x7f7f7f7fu, 0x807f807fu, 0x01ff80u};
  for (int i = 0; i < 2000; ++i) words.push_back(word(rng));
  for (uint32_t w : words) {
    EXPECT_EQ(lane0(sxtb16(w)), byte(w, 0)) << std::hex << w;
    EXPECT_EQ(lane1(sxtb16(w)), byte(w, 2)) << std::hex << w;
    EXPECT_EQ(lane0(sxtb16_odd(w)), byte(w, 1)) << std::hex << w;
    EXPECT_EQ(lane1(sxtb16_odd(w)), byte(w, 3)) << std::hex << w;
  }
}

TEST(Int8Packed, LaneArithmeticMatchesIntegers) {
  Rng rng(2);
  for (int i = 0; i < 5000; ++i) {
    // Lanes in the range the kernels use: int8 plus an offset in [-127, 128].
    const int32_t a0 = rng.uniform(-255, 255), a1 = rng.uniform(-255, 255);
    const int32_t b0 = rng.uniform(-128, 127), b1 = rng.uniform(-128, 127);
    const int32_t acc = rng.uniform(-(1 << 30), 1 << 30);
    const uint32_t a = pack_lanes(a0, a1), b = pack_lanes(b0, b1);
    EXPECT_EQ(smlad(a, b, acc), acc + a0 * b0 + a1 * b1);
    EXPECT_EQ(smlabb(a, b, acc), acc + a0 * b0);
    EXPECT_EQ(smlatt(a, b, acc), acc + a1 * b1);
    const int32_t o = rng.uniform(-127, 128);
    const uint32_t s = sadd16(pack_lanes(b0, b1), splat16(o));
    EXPECT_EQ(lane0(s), b0 + o);
    EXPECT_EQ(lane1(s), b1 + o);
  }
}

// Values with the extremes overrepresented.
std::vector<int8_t> values(Rng& rng, size_t n) {
  std::vector<int8_t> v = rng.int8s(n);
  for (auto& e : v) {
    const int r = rng.uniform(0, 9);
    if (r == 0) e = -128;
    if (r == 1) e = 127;
  }
  return v;
}

int64_t plain_dot(const int8_t* a, const int8_t* b, int n, int a_offset) {
  int64_t acc = 0;
  for (int i = 0; i < n; ++i) acc += (int64_t{a[i]} + a_offset) * b[i];
  return acc;
}

// Lengths 0..41 (every tail), sources at every misalignment, offsets across
// [-127, 128] (minus a zero point).
struct Case {
  int n, misalign, offset;
};

std::vector<Case> cases(Rng& rng) {
  std::vector<Case> c;
  for (int n = 0; n <= 41; ++n) {
    for (int m = 0; m < 4; ++m) c.push_back({n, m, rng.uniform(-127, 128)});
  }
  for (int offset : {-127, 0, 128}) c.push_back({37, 1, offset});
  return c;
}

TEST(Int8PackedDot, ExpandColumnStoresOffsetValuesInPackedOrder) {
  Rng rng(3);
  for (const Case& c : cases(rng)) {
    const std::vector<int8_t> buffer = values(rng, static_cast<size_t>(c.n + 4));
    const int8_t* src = buffer.data() + c.misalign;
    const auto words = static_cast<size_t>(column_words(c.n));
    std::vector<uint32_t> col(words + 1, 0xdeadbeefu);
    expand_column(src, c.n, c.offset, col.data());
    const int groups = c.n / 4;
    for (int g = 0; g < groups; ++g) {
      // Word 2g holds values 4g and 4g+2, word 2g+1 values 4g+1 and 4g+3.
      EXPECT_EQ(lane0(col[2 * g]), src[4 * g] + c.offset) << c.n << " " << g;
      EXPECT_EQ(lane1(col[2 * g]), src[4 * g + 2] + c.offset) << c.n << " " << g;
      EXPECT_EQ(lane0(col[2 * g + 1]), src[4 * g + 1] + c.offset) << c.n << " " << g;
      EXPECT_EQ(lane1(col[2 * g + 1]), src[4 * g + 3] + c.offset) << c.n << " " << g;
    }
    for (int i = 4 * groups; i < c.n; ++i) {
      EXPECT_EQ(tail_value(col[static_cast<size_t>(2 * groups + i - 4 * groups)]),
                src[i] + c.offset)
          << c.n << " " << i;
    }
    EXPECT_EQ(col[words], 0xdeadbeefu) << "wrote past the end, n " << c.n;
  }
}

TEST(Int8PackedDot, BlocksMatchPlainDotProducts) {
  Rng rng(4);
  for (const Case& c : cases(rng)) {
    SCOPED_TRACE("n " + std::to_string(c.n) + " misalign " + std::to_string(c.misalign) +
                 " offset " + std::to_string(c.offset));
    const size_t size = static_cast<size_t>(c.n + 4);
    const std::vector<int8_t> a0 = values(rng, size), a1 = values(rng, size);
    const std::vector<int8_t> w0 = values(rng, size), w1 = values(rng, size);
    const int m = c.misalign;
    std::vector<uint32_t> col0(static_cast<size_t>(column_words(c.n))), col1(col0.size());
    expand_column(a0.data() + m, c.n, c.offset, col0.data());
    expand_column(a1.data() + m, c.n, c.offset, col1.data());
    const int8_t* x0 = a0.data() + m;
    const int8_t* x1 = a1.data() + m;
    const int8_t* v0 = w0.data() + (3 - m);  // weights misaligned differently
    const int8_t* v1 = w1.data() + m;
    const int32_t bias[4] = {7, -100000, 0, 123456};
    int32_t acc[4] = {bias[0], bias[1], bias[2], bias[3]};
    mac_2x2(col0.data(), col1.data(), v0, v1, c.n, acc);
    EXPECT_EQ(acc[0], bias[0] + plain_dot(x0, v0, c.n, c.offset));
    EXPECT_EQ(acc[1], bias[1] + plain_dot(x0, v1, c.n, c.offset));
    EXPECT_EQ(acc[2], bias[2] + plain_dot(x1, v0, c.n, c.offset));
    EXPECT_EQ(acc[3], bias[3] + plain_dot(x1, v1, c.n, c.offset));
    EXPECT_EQ(mac_1x1(col1.data(), v0, c.n), plain_dot(x1, v0, c.n, c.offset));
    EXPECT_EQ(dot_s8_offset(x0, v1, c.n, c.offset), plain_dot(x0, v1, c.n, c.offset));
  }
}

TEST(Int8PackedDot, ExtremeValuesOverLongVectors) {
  // All -128 against all -128 with offset 128 / -127: the largest lane
  // products; 2000 of them still fit int32 as the kernels assume.
  for (int offset : {-127, 128}) {
    for (int8_t a : {int8_t{-128}, int8_t{127}}) {
      for (int8_t w : {int8_t{-128}, int8_t{127}}) {
        const std::vector<int8_t> x(2001, a), y(2001, w);
        std::vector<uint32_t> col(static_cast<size_t>(column_words(2001)));
        expand_column(x.data(), 2001, offset, col.data());
        const int64_t expected = plain_dot(x.data(), y.data(), 2001, offset);
        EXPECT_EQ(mac_1x1(col.data(), y.data(), 2001), expected);
        EXPECT_EQ(dot_s8_offset(x.data(), y.data(), 2001, offset), expected);
      }
    }
  }
}

}  // namespace
}  // namespace mcusplit::kernels::packed
