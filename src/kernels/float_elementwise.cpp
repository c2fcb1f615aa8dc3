#include "kernels/float_elementwise.h"

namespace mcusplit::kernels {

void add_f32(const BroadcastShape& shape, const float* a, const float* b, float* out) {
  int64_t total = 1;
  for (int d = 0; d < shape.rank; ++d) total *= shape.dims[d];
  int64_t index[kMaxRank] = {};
  for (int64_t i = 0; i < total; ++i) {
    int64_t ia = 0;
    int64_t ib = 0;
    for (int d = 0; d < shape.rank; ++d) {
      ia += index[d] * shape.a_strides[d];
      ib += index[d] * shape.b_strides[d];
    }
    out[i] = a[ia] + b[ib];
    // Odometer increment, last dimension fastest.
    for (int d = shape.rank - 1; d >= 0; --d) {
      if (++index[d] < shape.dims[d]) break;
      index[d] = 0;
    }
  }
}

void clamp_f32(int64_t count, float min, float max, const float* in, float* out) {
  for (int64_t i = 0; i < count; ++i) {
    const float v = in[i];
    out[i] = v < min ? min : (v > max ? max : v);
  }
}

}  // namespace mcusplit::kernels
