// Float reference batched MatMul with numpy broadcasting of the batch dims.
#pragma once

#include <cstdint>

#include "kernels/float_elementwise.h"  // kMaxRank

namespace mcusplit::kernels {

// The caller promotes 1-D operands to matrices ([k] -> [1, k] for A,
// [k] -> [k, 1] for B) and broadcasts the batch dims into strides measured in
// whole matrices (0 along a broadcast dim).
struct MatMulShape {
  int batch_rank = 0;
  int64_t batch_dims[kMaxRank] = {};
  int64_t a_batch_strides[kMaxRank] = {};
  int64_t b_batch_strides[kMaxRank] = {};
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
};

// a: matrices [m][k]; b: matrices [k][n]; out: [batch...][m][n], dense.
void matmul_f32(const MatMulShape& shape, const float* a, const float* b, float* out);

}  // namespace mcusplit::kernels
