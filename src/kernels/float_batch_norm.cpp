#include "kernels/float_batch_norm.h"

#include <cmath>

namespace mcusplit::kernels {

void batch_norm_f32(int64_t batch, int64_t channels, int64_t spatial, const float* input,
                    const float* scale, const float* bias, const float* mean, const float* var,
                    float epsilon, float* output) {
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const float inv_std = 1.0f / std::sqrt(var[c] + epsilon);
      const int64_t offset = (n * channels + c) * spatial;
      for (int64_t i = 0; i < spatial; ++i) {
        output[offset + i] = (input[offset + i] - mean[c]) * inv_std * scale[c] + bias[c];
      }
    }
  }
}

}  // namespace mcusplit::kernels
