// Tensor shapes and boxes (regions) of NHWC batch-1 tensors. Freestanding.
#pragma once

#include <cstdint>

namespace mcusplit::core {

// Dimensions of an NHWC tensor with batch 1.
struct TensorShape3 {
  int32_t c = 0;
  int32_t h = 0;
  int32_t w = 0;

  constexpr int32_t volume() const { return c * h * w; }
  friend constexpr bool operator==(const TensorShape3&, const TensorShape3&) = default;
};

// Half-open region [c0,c1) x [y0,y1) x [x0,x1) in tensor coordinates. A box
// stored densely is NHWC over the box: element (c, y, x) lives at
// dense_offset(box, c, y, x).
struct Box {
  int32_t c0 = 0;
  int32_t c1 = 0;
  int32_t y0 = 0;
  int32_t y1 = 0;
  int32_t x0 = 0;
  int32_t x1 = 0;

  constexpr int32_t channels() const { return c1 - c0; }
  constexpr int32_t height() const { return y1 - y0; }
  constexpr int32_t width() const { return x1 - x0; }
  constexpr bool empty() const { return c1 <= c0 || y1 <= y0 || x1 <= x0; }
  constexpr int32_t volume() const { return empty() ? 0 : channels() * height() * width(); }
  friend constexpr bool operator==(const Box&, const Box&) = default;
};

constexpr Box full_box(const TensorShape3& s) {
  return Box{0, s.c, 0, s.h, 0, s.w};
}

constexpr int32_t max_i32(int32_t a, int32_t b) {
  return a > b ? a : b;
}
constexpr int32_t min_i32(int32_t a, int32_t b) {
  return a < b ? a : b;
}

// Intersection; may be empty (then only empty() is meaningful).
constexpr Box intersect(const Box& a, const Box& b) {
  return Box{max_i32(a.c0, b.c0), min_i32(a.c1, b.c1), max_i32(a.y0, b.y0),
             min_i32(a.y1, b.y1), max_i32(a.x0, b.x0), min_i32(a.x1, b.x1)};
}

// True if inner lies inside outer. An empty inner is contained anywhere.
constexpr bool contains(const Box& outer, const Box& inner) {
  if (inner.empty()) return true;
  return outer.c0 <= inner.c0 && inner.c1 <= outer.c1 && outer.y0 <= inner.y0 &&
         inner.y1 <= outer.y1 && outer.x0 <= inner.x0 && inner.x1 <= outer.x1;
}

// True if the box lies inside a tensor of the given shape.
constexpr bool inside(const TensorShape3& s, const Box& b) {
  return contains(full_box(s), b);
}

// Offset of element (c, y, x) in a dense NHWC buffer holding box b.
constexpr int32_t dense_offset(const Box& b, int32_t c, int32_t y, int32_t x) {
  return ((y - b.y0) * b.width() + (x - b.x0)) * b.channels() + (c - b.c0);
}

}  // namespace mcusplit::core
