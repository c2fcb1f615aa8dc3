// int8 max and average pooling (TFLite int8 arithmetic) over boxes. Input
// and output share scale and zero point, so values pool without rescaling.
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

struct Int8PoolParams {
  TensorShape3 input;   // the full input tensor
  TensorShape3 output;  // the full output tensor (same channels)
  int32_t kernel_h = 1;
  int32_t kernel_w = 1;
  int32_t stride_h = 1;
  int32_t stride_w = 1;
  // Bottom/right padding only shows in the output dims. Every window must
  // hold at least one real input cell (else BadParams), as in TFLite/ONNX.
  int32_t pad_top = 0;
  int32_t pad_left = 0;
  ActivationRange activation;
  friend bool operator==(const Int8PoolParams&, const Int8PoolParams&) = default;
};

// Same channels as out_box; the rows/columns its windows touch, clipped.
Box required_input_box(const Int8PoolParams& p, const Box& out_box);

// Both pools need no scratch (state 0); the Scratch parameter keeps every
// int8 kernel's call shape alike (int8_common.h).

// Max over the real cells of each window (padding never wins), then clamp.
int32_t int8_max_pool_scratch_bytes(const Int8PoolParams& p, const Box& out_box);
KernelStatus int8_max_pool(const Int8PoolParams& p, const InputTile& in, const OutputTile& out,
                           Scratch scratch);

// Sum of the real cells divided by their count (padding not counted), rounded
// half away from zero, then clamp. ONNX count_include_pad=1 is not supported.
int32_t int8_average_pool_scratch_bytes(const Int8PoolParams& p, const Box& out_box);
KernelStatus int8_average_pool(const Int8PoolParams& p, const InputTile& in, const OutputTile& out,
                               Scratch scratch);

}  // namespace mcusplit::kernels
