// Random shapes, boxes and tiles for the int8 kernel tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/box.h"
#include "int8_reference.h"
#include "kernels/int8_common.h"

namespace mcusplit::testing {

using core::Box;
using core::TensorShape3;

class Rng {
 public:
  explicit Rng(uint32_t seed) : gen_(seed) {}
  // Inclusive range.
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(gen_); }
  std::vector<int8_t> int8s(size_t n, int lo = -128, int hi = 127) {
    std::vector<int8_t> v(n);
    for (auto& e : v) e = static_cast<int8_t>(uniform(lo, hi));
    return v;
  }
  std::vector<int32_t> int32s(size_t n, int lo, int hi) {
    std::vector<int32_t> v(n);
    for (auto& e : v) e = uniform(lo, hi);
    return v;
  }
  // A Q31 multiplier in [2^30, 2^31) and a shift around `typical`, sometimes
  // anywhere in TFLite's range (positive shifts exercise the left shift).
  void requant(int32_t& multiplier, int32_t& shift, int typical_lo, int typical_hi) {
    multiplier = static_cast<int32_t>(
        std::uniform_int_distribution<int64_t>(int64_t{1} << 30, (int64_t{1} << 31) - 1)(gen_));
    shift = chance(0.1) ? uniform(-31, 4) : uniform(typical_lo, typical_hi);
  }

 private:
  std::mt19937 gen_;
};

inline TensorShape3 to_core(const reference::Shape& s) {
  return TensorShape3{s.c, s.h, s.w};
}

inline std::string describe(const Box& b) {
  return "c[" + std::to_string(b.c0) + "," + std::to_string(b.c1) + ") y[" + std::to_string(b.y0) +
         "," + std::to_string(b.y1) + ") x[" + std::to_string(b.x0) + "," + std::to_string(b.x1) +
         ")";
}

// A non-empty random box inside the shape.
inline Box random_box(Rng& rng, const TensorShape3& s) {
  Box b;
  b.c0 = rng.uniform(0, s.c - 1);
  b.c1 = rng.uniform(b.c0 + 1, s.c);
  b.y0 = rng.uniform(0, s.h - 1);
  b.y1 = rng.uniform(b.y0 + 1, s.h);
  b.x0 = rng.uniform(0, s.w - 1);
  b.x1 = rng.uniform(b.x0 + 1, s.w);
  return b;
}

// b enlarged by random amounts, staying inside the shape; empty stays empty.
inline Box grow_box(Rng& rng, Box b, const TensorShape3& s, bool grow_channels = true) {
  if (b.empty()) return b;
  if (grow_channels) {
    b.c0 = rng.uniform(0, b.c0);
    b.c1 = rng.uniform(b.c1, s.c);
  }
  b.y0 = rng.uniform(0, b.y0);
  b.y1 = rng.uniform(b.y1, s.h);
  b.x0 = rng.uniform(0, b.x0);
  b.x1 = rng.uniform(b.x1, s.w);
  return b;
}

// Dense NHWC copy of box b of a whole tensor (a fresh allocation, so reads
// outside it are caught by sanitizers).
inline std::vector<int8_t> extract(const std::vector<int8_t>& full, const reference::Shape& s,
                                   const Box& b) {
  std::vector<int8_t> out;
  if (b.empty()) return out;
  out.reserve(static_cast<size_t>(b.volume()));
  for (int y = b.y0; y < b.y1; ++y) {
    for (int x = b.x0; x < b.x1; ++x) {
      for (int c = b.c0; c < b.c1; ++c) out.push_back(full[s.index(c, y, x)]);
    }
  }
  return out;
}

constexpr int8_t kSentinel = 0x5a;

// An output buffer for box b: dense, or with random gaps between pixels and
// rows that must stay untouched.
struct OutputBuffer {
  Box box;
  int32_t pixel_stride = 0;
  int32_t row_stride = 0;
  std::vector<int8_t> data;

  OutputBuffer(Rng& rng, const Box& b, bool allow_strides = true) : box(b) {
    const bool strided = allow_strides && rng.chance(0.3);
    pixel_stride = b.channels() + (strided ? rng.uniform(0, 3) : 0);
    row_stride = b.width() * pixel_stride + (strided ? rng.uniform(0, 5) : 0);
    data.assign(static_cast<size_t>(row_stride) * b.height() + 8, kSentinel);
    if (!strided) pixel_stride = row_stride = 0;  // exercise the dense default
  }
  int32_t pixel() const { return pixel_stride != 0 ? pixel_stride : box.channels(); }
  int32_t row() const { return row_stride != 0 ? row_stride : box.width() * pixel(); }
};

// Every element of buf.box equals the whole expected tensor; gaps untouched.
inline void expect_matches(const std::vector<int8_t>& expected, const reference::Shape& s,
                           const OutputBuffer& buf) {
  std::vector<bool> written(buf.data.size(), false);
  int mismatches = 0;
  for (int y = buf.box.y0; y < buf.box.y1; ++y) {
    for (int x = buf.box.x0; x < buf.box.x1; ++x) {
      for (int c = buf.box.c0; c < buf.box.c1; ++c) {
        const size_t at = static_cast<size_t>((y - buf.box.y0) * buf.row() +
                                              (x - buf.box.x0) * buf.pixel() + (c - buf.box.c0));
        written[at] = true;
        const int want = expected[s.index(c, y, x)];
        const int got = buf.data[at];
        if (want != got && ++mismatches <= 5) {
          ADD_FAILURE() << "at c=" << c << " y=" << y << " x=" << x << ": want " << want << " got "
                        << got;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "in box " << describe(buf.box);
  for (size_t i = 0; i < buf.data.size(); ++i) {
    if (!written[i] && buf.data[i] != kSentinel) {
      ADD_FAILURE() << "wrote outside the box at byte " << i;
      break;
    }
  }
}

// A kernel scratch of exactly `bytes` bytes (4-byte aligned) followed by
// guard bytes; every byte starts as a fill pattern, so guard_intact() tells
// whether a kernel wrote past the scratch it was given.
class GuardedScratch {
 public:
  static constexpr int32_t kGuardBytes = 64;
  static constexpr uint8_t kFill = 0xa5;

  explicit GuardedScratch(int32_t bytes)
      : bytes_(bytes), words_(static_cast<size_t>((bytes + kGuardBytes + 3) / 4)) {
    for (int32_t i = 0; i < total(); ++i) base()[i] = static_cast<int8_t>(kFill);
  }
  kernels::Scratch scratch() { return {bytes_ > 0 ? base() : nullptr, bytes_}; }
  // The bytes after the scratch still hold the fill.
  bool guard_intact() const {
    const auto* b = reinterpret_cast<const uint8_t*>(words_.data());
    for (int32_t i = bytes_; i < total(); ++i) {
      if (b[i] != kFill) return false;
    }
    return true;
  }

 private:
  int8_t* base() { return reinterpret_cast<int8_t*>(words_.data()); }
  int32_t total() const { return static_cast<int32_t>(words_.size() * 4); }
  int32_t bytes_;
  std::vector<int32_t> words_;
};

}  // namespace mcusplit::testing
