#include "kernels/int8_fully_connected.h"

#include "kernels/int8_packed_dot.h"

namespace mcusplit::kernels {

namespace {

bool valid_fc_params(const Int8FullyConnectedParams& p) {
  if (p.input_size <= 0 || p.output_size <= 0) return false;
  if (!valid_zero_point(p.input_zero_point) || !valid_zero_point(p.output_zero_point)) {
    return false;
  }
  if (!valid_activation(p.activation)) return false;
  if (p.weights_n0 < 0 || p.weights_n1 > p.output_size || p.weights_n0 >= p.weights_n1) {
    return false;
  }
  return p.weights != nullptr && p.requant.multiplier != nullptr && p.requant.shift != nullptr;
}

}  // namespace

int32_t int8_fully_connected_scratch_bytes(const Int8FullyConnectedParams& /*p*/, int32_t /*n0*/,
                                           int32_t /*n1*/) {
  return 0;
}

KernelStatus int8_fully_connected(const Int8FullyConnectedParams& p, const int8_t* input,
                                  int32_t n0, int32_t n1, int8_t* output, Scratch /*scratch*/) {
  if (!valid_fc_params(p) || n0 > n1) return KernelStatus::BadParams;
  if (n0 == n1) return KernelStatus::Ok;
  if (n0 < p.weights_n0 || n1 > p.weights_n1 || input == nullptr || output == nullptr) {
    return KernelStatus::BadParams;
  }
  const int32_t input_offset = -p.input_zero_point;
  for (int32_t n = n0; n < n1; ++n) {
    const int32_t slot = n - p.weights_n0;
    const int32_t requant_slot = p.per_tensor_requant ? 0 : slot;
    const int8_t* row = p.weights + slot * p.input_size;
#if defined(__ARM_FEATURE_DSP)
    // Each weight row is read once: SMLAD straight from int8, no expansion.
    const int32_t dot = packed::dot_s8_offset(input, row, p.input_size, input_offset);
#else
    const int32_t dot = dot_s8_offset(input, row, p.input_size, input_offset);
#endif
    const int32_t acc = (p.bias != nullptr ? p.bias[slot] : 0) + dot;
    output[n - n0] = requantize(acc, p.requant.multiplier[requant_slot],
                                p.requant.shift[requant_slot], p.output_zero_point, p.activation);
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
