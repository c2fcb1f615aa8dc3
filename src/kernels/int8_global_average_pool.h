// int8 global average pool, computed as TFLite's int8 Mean over H and W:
//   acc = sum (in - in_zp); acc = MBQM(acc, multiplier, shift) with
//   multiplier/shift = in_scale / out_scale; acc = round_half_away(acc / (H*W));
//   out = clamp(acc + out_zp).
// With equal input and output quantization this is the rounded mean.
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

struct Int8GlobalAveragePoolParams {
  TensorShape3 input;  // output is {input.c, 1, 1}
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  int32_t multiplier = int32_t{1} << 30;  // default: in_scale == out_scale
  int32_t shift = 1;
  ActivationRange activation;
  friend bool operator==(const Int8GlobalAveragePoolParams&,
                         const Int8GlobalAveragePoolParams&) = default;
};

// Host side: fills the zero points and the in/out scale ratio.
Int8GlobalAveragePoolParams make_int8_global_average_pool_params(const TensorShape3& input,
                                                                 const core::QuantParams& in_q,
                                                                 const core::QuantParams& out_q);

// Channels of out_box, all rows and columns.
Box required_input_box(const Int8GlobalAveragePoolParams& p, const Box& out_box);

// Scratch (int8_common.h): running sums of up to 64 channels at a time,
// 4 * min(64, out_box channels) bytes.
int32_t int8_global_average_pool_scratch_bytes(const Int8GlobalAveragePoolParams& p,
                                               const Box& out_box);

// out.box lies in the {C, 1, 1} output tensor; scratch holds at least
// int8_global_average_pool_scratch_bytes(p, out.box) bytes, else BadParams.
KernelStatus int8_global_average_pool(const Int8GlobalAveragePoolParams& p, const InputTile& in,
                                      const OutputTile& out, Scratch scratch);

}  // namespace mcusplit::kernels
