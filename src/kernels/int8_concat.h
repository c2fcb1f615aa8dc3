// int8 concatenation as a strided box copy: a box of one input tensor is
// written into its place in the output tensor, requantized when the input's
// quantization differs from the output's (TFLite Requantize formula:
// clamp(MBQM(in - in_zp, multiplier, shift) + out_zp, -128, 127)). TFLite
// itself requires equal scales; then the copy is exact.
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

struct Int8ConcatParams {
  TensorShape3 input;
  TensorShape3 output;
  // Output coordinates of the input's element (0, 0, 0): the running channel
  // count for a channel concat, rows or columns for spatial ones.
  int32_t offset_c = 0;
  int32_t offset_y = 0;
  int32_t offset_x = 0;
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  int32_t multiplier = int32_t{1} << 30;  // in_scale / out_scale; default identity
  int32_t shift = 1;
  friend bool operator==(const Int8ConcatParams&, const Int8ConcatParams&) = default;
};

// Host side: zero points and in/out scale ratio (identity when equal).
void set_int8_concat_quantization(Int8ConcatParams& p, const core::QuantParams& in_q,
                                  const core::QuantParams& out_q);

// Whether the offsets put the whole input inside the output: what
// required_input_box and the kernel rely on.
bool input_placed_inside_output(const Int8ConcatParams& p);

// The part of the input that lands in out_box (input coordinates; may be empty).
Box required_input_box(const Int8ConcatParams& p, const Box& out_box);

// Copies copy_box (input coordinates, inside in.box) to copy_box + offset,
// which must lie inside out.box. Needs no scratch (states 0); the Scratch
// parameter keeps every int8 kernel's call shape alike (int8_common.h).
int32_t int8_concat_scratch_bytes(const Int8ConcatParams& p, const Box& copy_box);
KernelStatus int8_concat(const Int8ConcatParams& p, const InputTile& in, const Box& copy_box,
                         const OutputTile& out, Scratch scratch);

}  // namespace mcusplit::kernels
