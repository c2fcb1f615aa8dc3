// int8 Pad (TFLite's PAD / PADV2 on a batch-1 NHWC tensor): the input copied
// into a larger tensor at an offset, every other element set to one value
// (PAD: the zero point; PADV2: its constant). A PAD the TFLite importer cannot
// fold into the convolution after it runs as this layer.
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

struct Int8PadParams {
  TensorShape3 input;
  TensorShape3 output;  // at least input + the offsets in every dimension
  // Output coordinates of the input's element (0, 0, 0): the channels, rows
  // and columns padded before.
  int32_t pad_c = 0;
  int32_t pad_top = 0;
  int32_t pad_left = 0;
  int32_t value = 0;  // int8
  friend bool operator==(const Int8PadParams&, const Int8PadParams&) = default;
};

// Nullptr if the parameters are consistent, else what is wrong (static text).
const char* check_int8_pad_params(const Int8PadParams& p);

// The input box out_box reads (input coordinates); empty when out_box is all
// padding.
Box required_input_box(const Int8PadParams& p, const Box& out_box);

// Needs no scratch (states 0); the Scratch parameter keeps every int8
// kernel's call shape alike (int8_common.h).
int32_t int8_pad_scratch_bytes(const Int8PadParams& p, const Box& out_box);

// in must cover required_input_box(p, out.box) (its data may be null when that
// is empty).
KernelStatus int8_pad(const Int8PadParams& p, const InputTile& in, const OutputTile& out,
                      Scratch scratch);

}  // namespace mcusplit::kernels
