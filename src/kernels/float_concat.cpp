#include "kernels/float_concat.h"

namespace mcusplit::kernels {

void concat_copy_f32(int64_t outer, int64_t inner, int64_t out_inner, int64_t offset,
                     const float* input, float* output) {
  for (int64_t o = 0; o < outer; ++o) {
    const float* src = input + o * inner;
    float* dst = output + o * out_inner + offset;
    for (int64_t i = 0; i < inner; ++i) dst[i] = src[i];
  }
}

}  // namespace mcusplit::kernels
