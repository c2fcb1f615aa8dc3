// Float reference Gemm: out = alpha * op(A) * op(B) + beta * C.
#pragma once

#include <cstdint>
#include <limits>

namespace mcusplit::kernels {

struct GemmParams {
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  float alpha = 1.0f;
  float beta = 1.0f;
  bool trans_a = false;  // A stored [k][m] instead of [m][k]
  bool trans_b = false;  // B stored [n][k] instead of [k][n]
  // C broadcast to [m][n]: C[i][j] = c[i * c_row_stride + j * c_col_stride]
  // (stride 0 along a broadcast axis).
  int64_t c_row_stride = 0;
  int64_t c_col_stride = 0;
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();
};

// c may be nullptr (no bias). out is [m][n].
void gemm_f32(const GemmParams& p, const float* a, const float* b, const float* c, float* out);

}  // namespace mcusplit::kernels
