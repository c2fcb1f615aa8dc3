// Float reference inference BatchNormalization, channel axis 1.
#pragma once

#include <cstdint>

namespace mcusplit::kernels {

// input/output [batch][channels][spatial]; per-channel scale, bias, mean, var.
// y = (x - mean) / sqrt(var + epsilon) * scale + bias
void batch_norm_f32(int64_t batch, int64_t channels, int64_t spatial, const float* input,
                    const float* scale, const float* bias, const float* mean, const float* var,
                    float epsilon, float* output);

}  // namespace mcusplit::kernels
