// int8 Reshape that keeps the flat NHWC element order (Flatten, and Reshape
// between NHWC shapes): output element f is input element f, so it is a copy
// whose receptive field is the input rows holding a box's first to last
// element. Freestanding.
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

struct ReshapeParams {
  TensorShape3 input;
  TensorShape3 output;  // same element count
  friend bool operator==(const ReshapeParams&, const ReshapeParams&) = default;
};

// Whole input rows holding out_box's first to last element, or out_box
// itself when the shapes are equal (empty for an empty box).
Box required_input_box(const ReshapeParams& p, const Box& out_box);

// Copies every element of out.box; `in` must cover required_input_box.
KernelStatus int8_reshape(const ReshapeParams& p, const InputTile& in, const OutputTile& out);

}  // namespace mcusplit::kernels
