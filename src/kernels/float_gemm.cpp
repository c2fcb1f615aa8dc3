#include "kernels/float_gemm.h"

namespace mcusplit::kernels {

void gemm_f32(const GemmParams& p, const float* a, const float* b, const float* c, float* out) {
  // Element strides of op(A) [m][k] and op(B) [k][n] over the stored layouts.
  const int64_t a_row = p.trans_a ? 1 : p.k;
  const int64_t a_col = p.trans_a ? p.m : 1;
  const int64_t b_row = p.trans_b ? 1 : p.n;
  const int64_t b_col = p.trans_b ? p.k : 1;
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < p.k; ++kk)
        acc += a[i * a_row + kk * a_col] * b[kk * b_row + j * b_col];
      float v = p.alpha * acc;
      if (c) v += p.beta * c[i * p.c_row_stride + j * p.c_col_stride];
      v = v < p.act_min ? p.act_min : v;
      v = v > p.act_max ? p.act_max : v;
      out[i * p.n + j] = v;
    }
  }
}

}  // namespace mcusplit::kernels
