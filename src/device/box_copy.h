// Moving boxes between dense NHWC buffers (core::dense_offset): the gathers,
// scatters and copies of Send, Receive, Copy, LoadInput and StoreOutput.
// Freestanding; callers check containment first.
#pragma once

#include <cstdint>

#include "core/box.h"

namespace mcusplit::device {

// Copies `box` from `src` (dense over src_box) to `dst` (dense over dst_box).
// Both boxes must contain `box`.
void copy_box(const int8_t* src, const core::Box& src_box, int8_t* dst, const core::Box& dst_box,
              const core::Box& box);

// Bytes [offset, offset + n) of `box`'s dense NHWC body, read from or
// written to a buffer dense over buffer_box (which must contain `box`): one
// frame of a message, moved without staging the whole box.
void gather_range(const int8_t* buffer, const core::Box& buffer_box, const core::Box& box,
                  int64_t offset, int64_t n, int8_t* out);
void scatter_range(const int8_t* in, int8_t* buffer, const core::Box& buffer_box,
                   const core::Box& box, int64_t offset, int64_t n);

// One past the last byte `box` occupies in a buffer dense over buffer_box
// (0 for an empty box): how far into the buffer a write of `box` reaches.
int64_t dense_end(const core::Box& buffer_box, const core::Box& box);

}  // namespace mcusplit::device
