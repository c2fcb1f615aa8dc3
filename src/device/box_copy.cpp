#include "device/box_copy.h"

#include <cstring>

namespace mcusplit::device {

using core::Box;
using core::dense_offset;
using core::TensorShape3;

void copy_box(const int8_t* src, const Box& src_box, int8_t* dst, const Box& dst_box,
              const Box& box) {
  if (box.empty()) return;
  // When the box spans both buffers' channels its pixels are contiguous in
  // both, so a row goes in one memcpy.
  const bool whole_pixels =
      box.c0 == src_box.c0 && box.c1 == src_box.c1 && box.c0 == dst_box.c0 && box.c1 == dst_box.c1;
  const auto channels = static_cast<size_t>(box.channels());
  for (int32_t y = box.y0; y < box.y1; ++y) {
    if (whole_pixels) {
      std::memcpy(dst + dense_offset(dst_box, box.c0, y, box.x0),
                  src + dense_offset(src_box, box.c0, y, box.x0),
                  channels * static_cast<size_t>(box.width()));
      continue;
    }
    for (int32_t x = box.x0; x < box.x1; ++x) {
      std::memcpy(dst + dense_offset(dst_box, box.c0, y, x),
                  src + dense_offset(src_box, box.c0, y, x), channels);
    }
  }
}

namespace {

// Calls move(body_offset, buffer_offset, run) for the contiguous runs that
// make up bytes [offset, offset + n) of box's body within the buffer.
template <typename Move>
void for_each_run(const Box& buffer_box, const Box& box, int64_t offset, int64_t n, Move move) {
  if (box.empty() || n <= 0) return;
  const int64_t channels = box.channels();
  const int64_t width = box.width();
  // Whole pixels are contiguous in the buffer along a row of the box.
  const bool whole_pixels = box.c0 == buffer_box.c0 && box.c1 == buffer_box.c1;
  while (n > 0) {
    const int64_t pixel = offset / channels;
    const auto c = static_cast<int32_t>(offset % channels);
    const auto y = static_cast<int32_t>(box.y0 + pixel / width);
    const auto x = static_cast<int32_t>(box.x0 + pixel % width);
    int64_t run = whole_pixels ? (box.x1 - x) * channels - c : channels - c;
    if (run > n) run = n;
    move(offset, dense_offset(buffer_box, box.c0 + c, y, x), run);
    offset += run;
    n -= run;
  }
}

}  // namespace

void gather_range(const int8_t* buffer, const Box& buffer_box, const Box& box, int64_t offset,
                  int64_t n, int8_t* out) {
  const int64_t start = offset;
  for_each_run(buffer_box, box, offset, n, [&](int64_t body, int64_t at, int64_t run) {
    std::memcpy(out + (body - start), buffer + at, static_cast<size_t>(run));
  });
}

void scatter_range(const int8_t* in, int8_t* buffer, const Box& buffer_box, const Box& box,
                   int64_t offset, int64_t n) {
  const int64_t start = offset;
  for_each_run(buffer_box, box, offset, n, [&](int64_t body, int64_t at, int64_t run) {
    std::memcpy(buffer + at, in + (body - start), static_cast<size_t>(run));
  });
}

int64_t dense_end(const Box& buffer_box, const Box& box) {
  if (box.empty()) return 0;
  return int64_t{dense_offset(buffer_box, box.c1 - 1, box.y1 - 1, box.x1 - 1)} + 1;
}

}  // namespace mcusplit::device
