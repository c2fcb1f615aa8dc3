// int8 elementwise Add (TFLite int8 arithmetic) of two same-shape tensors
// over a box; each input comes as its own tile.
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

// TFLite's AddParams: both inputs are rescaled to twice the larger input
// scale with 2^left_shift headroom, summed, then rescaled to the output.
struct Int8AddParams {
  TensorShape3 shape;         // inputs and output
  int32_t input1_offset = 0;  // -zero_point
  int32_t input2_offset = 0;
  int32_t output_offset = 0;  // +zero_point
  int32_t input1_multiplier = 0;
  int32_t input1_shift = 0;  // <= 0
  int32_t input2_multiplier = 0;
  int32_t input2_shift = 0;
  int32_t output_multiplier = 0;
  int32_t output_shift = 0;
  int32_t left_shift = 20;  // at most 23: (x - zp) * 2^left_shift must fit int32
  ActivationRange activation;
  friend bool operator==(const Int8AddParams&, const Int8AddParams&) = default;
};

// Host side: the multipliers TFLite's Add Prepare derives from the scales.
Int8AddParams make_int8_add_params(const TensorShape3& shape, const core::QuantParams& input1,
                                   const core::QuantParams& input2, const core::QuantParams& output,
                                   const ActivationRange& act);

// Elementwise, so the required input box is the output box itself.
inline Box required_input_box(const Int8AddParams& /*p*/, const Box& out_box) {
  return out_box;
}

// Scratch (int8_common.h): boxes of 1024 values or more rescale through two
// 256-entry int32 tables, 2048 bytes; smaller boxes need none (0).
int32_t int8_add_scratch_bytes(const Int8AddParams& p, const Box& out_box);

// Both input tiles must cover out.box; scratch holds at least
// int8_add_scratch_bytes(p, out.box) bytes, else BadParams.
KernelStatus int8_add(const Int8AddParams& p, const InputTile& in1, const InputTile& in2,
                      const OutputTile& out, Scratch scratch);

}  // namespace mcusplit::kernels
