// Gemm, MatMul, Add, clamp, BatchNormalization and Concat kernels.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/float_batch_norm.h"
#include "kernels/float_concat.h"
#include "kernels/float_elementwise.h"
#include "kernels/float_gemm.h"
#include "kernels/float_matmul.h"

namespace mcusplit::kernels {
namespace {

TEST(FloatGemm, PlainWithRowBroadcastBias) {
  // A [2,3], B [3,2], C [2] broadcast along rows.
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<float> b = {1, 0, 0, 1, 1, 1};
  std::vector<float> c = {10, 20};
  GemmParams p;
  p.m = 2;
  p.n = 2;
  p.k = 3;
  p.c_col_stride = 1;
  std::vector<float> out(4);
  gemm_f32(p, a.data(), b.data(), c.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{14, 25, 20, 31}));
}

TEST(FloatGemm, TransposedOperandsAlphaBetaScalarC) {
  // A stored [3,2] (= A^T of the above), B stored [2,3] (= B^T).
  std::vector<float> a_t = {1, 4, 2, 5, 3, 6};
  std::vector<float> b_t = {1, 0, 1, 0, 1, 1};
  std::vector<float> c = {1};
  GemmParams p;
  p.m = 2;
  p.n = 2;
  p.k = 3;
  p.trans_a = true;
  p.trans_b = true;
  p.alpha = 2.0f;
  p.beta = 0.5f;
  p.act_min = 0.0f;
  p.act_max = 40.0f;
  std::vector<float> out(4);
  gemm_f32(p, a_t.data(), b_t.data(), c.data(), out.data());
  // A*B = [4 5; 10 11] -> 2x + 0.5 -> [8.5 10.5; 20.5 22.5]
  EXPECT_EQ(out, (std::vector<float>{8.5, 10.5, 20.5, 22.5}));
}

TEST(FloatMatMul, BroadcastsBatchDims) {
  // A [2, 1, 2] x B [1, 2, 1]... as batch dims: A batch [2], B batch [1].
  std::vector<float> a = {1, 2, 3, 4};  // two 1x2 matrices
  std::vector<float> b = {10, 1};       // one 2x1 matrix
  MatMulShape s;
  s.batch_rank = 1;
  s.batch_dims[0] = 2;
  s.a_batch_strides[0] = 1;
  s.b_batch_strides[0] = 0;
  s.m = 1;
  s.k = 2;
  s.n = 1;
  std::vector<float> out(2);
  matmul_f32(s, a.data(), b.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{12, 34}));
}

TEST(FloatElementwise, AddBroadcastsAndClampClips) {
  // [2,3] + [3]
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<float> b = {10, 20, 30};
  BroadcastShape s;
  s.rank = 2;
  s.dims[0] = 2;
  s.dims[1] = 3;
  s.a_strides[0] = 3;
  s.a_strides[1] = 1;
  s.b_strides[0] = 0;
  s.b_strides[1] = 1;
  std::vector<float> out(6);
  add_f32(s, a.data(), b.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{11, 22, 33, 14, 25, 36}));
  clamp_f32(6, 12.0f, 30.0f, out.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{12, 22, 30, 14, 25, 30}));
}

TEST(FloatBatchNorm, InferenceFormula) {
  // 1 image, 2 channels of 2 cells.
  std::vector<float> x = {1, 3, 2, 4};
  std::vector<float> scale = {2, 1};
  std::vector<float> bias = {1, 0};
  std::vector<float> mean = {1, 2};
  std::vector<float> var = {4, 1};
  std::vector<float> out(4);
  batch_norm_f32(1, 2, 2, x.data(), scale.data(), bias.data(), mean.data(), var.data(), 0.0f,
                 out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 3, 0, 2}));
}

TEST(FloatConcat, StridedCopyAlongInnerAxis) {
  // [2,1] and [2,2] along axis 1 -> [2,3].
  std::vector<float> a = {1, 2};
  std::vector<float> b = {3, 4, 5, 6};
  std::vector<float> out(6);
  concat_copy_f32(2, 1, 3, 0, a.data(), out.data());
  concat_copy_f32(2, 2, 3, 1, b.data(), out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 3, 4, 2, 5, 6}));
}

}  // namespace
}  // namespace mcusplit::kernels
