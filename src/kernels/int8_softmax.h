// int8 Softmax over channels, TFLite's integer algorithm (the reference
// kernel TFLM runs for int8 in and out): per pixel, the differences to the
// channel maximum are rescaled by beta * input_scale into Q5.26, exp() is
// evaluated in fixed point (gemmlowp's exp_on_negative_values), the sum of
// the exps in Q12.19 is inverted by Newton-Raphson, and each output is
// exp * (1 / sum) in 1/256 steps with zero point -128. Freestanding.
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

// The output is quantized with scale 1/256 and zero point -128, as TFLite
// requires of an int8 Softmax, so it has no parameters of its own.
struct Int8SoftmaxParams {
  TensorShape3 shape;            // input and output
  int32_t input_multiplier = 0;  // beta * input_scale * 2^26, Q31 mantissa
  int32_t input_left_shift = 0;  // its exponent, in [0, 31]
  int32_t diff_min = 0;          // differences below this give exp 0 (output -128)
  friend bool operator==(const Int8SoftmaxParams&, const Int8SoftmaxParams&) = default;
};

// Host side: TFLite's PreprocessSoftmaxScaling and CalculateInputRadius for
// 5 integer bits. ok is false when beta * input_scale * 2^26 is not above 1
// (TFLite refuses such a model too).
struct Int8SoftmaxSetup {
  bool ok = false;
  Int8SoftmaxParams params;
};
Int8SoftmaxSetup make_int8_softmax_params(const TensorShape3& shape, double beta,
                                          double input_scale);

// The pixels of out_box, every channel (each output reads its pixel's max
// and sum).
Box required_input_box(const Int8SoftmaxParams& p, const Box& out_box);

// Needs no scratch (states 0): the exps are computed again for the outputs
// rather than stored.
int32_t int8_softmax_scratch_bytes(const Int8SoftmaxParams& p, const Box& out_box);
KernelStatus int8_softmax(const Int8SoftmaxParams& p, const InputTile& in, const OutputTile& out,
                          Scratch scratch);

}  // namespace mcusplit::kernels
