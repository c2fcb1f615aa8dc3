// Float reference mean reductions: ReduceMean over any axes and the NCHW
// global average pool.
#pragma once

#include <cstdint>

#include "kernels/float_elementwise.h"  // kMaxRank

namespace mcusplit::kernels {

// Input dims and which axes are reduced. The output keeps the input's order
// with reduced axes removed (or kept as 1, which is the same layout).
struct ReduceShape {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  bool reduced[kMaxRank] = {};
};

// output[j] = mean of the input cells that map to j.
void reduce_mean_f32(const ReduceShape& shape, const float* input, float* output);

// input [planes][plane_size] -> output [planes], the mean of each plane.
void global_average_pool_f32(int64_t planes, int64_t plane_size, const float* input, float* output);

}  // namespace mcusplit::kernels
