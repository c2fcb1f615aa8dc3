#include "kernels/float_matmul.h"

namespace mcusplit::kernels {

void matmul_f32(const MatMulShape& shape, const float* a, const float* b, float* out) {
  int64_t batches = 1;
  for (int d = 0; d < shape.batch_rank; ++d) batches *= shape.batch_dims[d];
  const int64_t a_matrix = shape.m * shape.k;
  const int64_t b_matrix = shape.k * shape.n;
  int64_t index[kMaxRank] = {};
  for (int64_t batch = 0; batch < batches; ++batch) {
    int64_t ia = 0;
    int64_t ib = 0;
    for (int d = 0; d < shape.batch_rank; ++d) {
      ia += index[d] * shape.a_batch_strides[d];
      ib += index[d] * shape.b_batch_strides[d];
    }
    const float* lhs = a + ia * a_matrix;
    const float* rhs = b + ib * b_matrix;
    for (int64_t i = 0; i < shape.m; ++i) {
      for (int64_t j = 0; j < shape.n; ++j) {
        float acc = 0.0f;
        for (int64_t kk = 0; kk < shape.k; ++kk)
          acc += lhs[i * shape.k + kk] * rhs[kk * shape.n + j];
        *out++ = acc;
      }
    }
    for (int d = shape.batch_rank - 1; d >= 0; --d) {
      if (++index[d] < shape.batch_dims[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace mcusplit::kernels
