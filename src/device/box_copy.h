// Moving boxes between dense NHWC buffers (core::dense_offset): the gathers,
// scatters and copies of Send, Receive, Copy, LoadInput and StoreOutput, and
// Reshape's flat-order copy. Freestanding; callers check containment first.
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

// The input rows a Reshape (which keeps the flat NHWC order) reads to fill
// out_box of its output: whole rows holding its first to last element, or
// out_box itself when the shapes are equal.
core::Box reshape_input_box(const core::TensorShape3& in_shape, const core::TensorShape3& out_shape,
                            const core::Box& out_box);

// Writes every element of `box` (output coordinates) of a Reshape from
// in_shape to out_shape: output element f (flat NHWC index) is input element
// f. `in` is dense over in_box, which must contain reshape_input_box(...);
// `out` is dense over out_buffer_box, which must contain `box`.
void reshape_copy(const core::TensorShape3& in_shape, const int8_t* in, const core::Box& in_box,
                  const core::TensorShape3& out_shape, int8_t* out, const core::Box& out_buffer_box,
                  const core::Box& box);

}  // namespace mcusplit::device
