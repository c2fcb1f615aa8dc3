// int8 fully connected layer (TFLite int8 spec) over a range of output
// neurons, so a device holding only some weight rows computes its share.
#pragma once

#include <cstdint>

#include "kernels/int8_common.h"

namespace mcusplit::kernels {

// Weights, bias and requantization hold neurons [weights_n0, weights_n1), each
// pointer addressing neuron weights_n0 (index with n - weights_n0).
struct Int8FullyConnectedParams {
  int32_t input_size = 0;   // K
  int32_t output_size = 0;  // N
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  ActivationRange activation;
  const int8_t* weights = nullptr;  // [weights_n1 - weights_n0][K], symmetric (zero point 0)
  const int32_t* bias = nullptr;    // optional
  core::PerChannelRequant requant;  // per neuron, or element 0 for all if per_tensor_requant
  bool per_tensor_requant = false;
  int32_t weights_n0 = 0;
  int32_t weights_n1 = 0;
  friend bool operator==(const Int8FullyConnectedParams&,
                         const Int8FullyConnectedParams&) = default;
};

// output[n - n0] = clamp(MBQM(bias[n] + sum_k (in[k] - in_zp) * w[n][k]) + out_zp)
// for n in [n0, n1); input holds all K values. Needs no scratch (states 0);
// the Scratch parameter keeps every int8 kernel's call shape alike
// (int8_common.h).
int32_t int8_fully_connected_scratch_bytes(const Int8FullyConnectedParams& p, int32_t n0,
                                           int32_t n1);
KernelStatus int8_fully_connected(const Int8FullyConnectedParams& p, const int8_t* input,
                                  int32_t n0, int32_t n1, int8_t* output, Scratch scratch);

}  // namespace mcusplit::kernels
