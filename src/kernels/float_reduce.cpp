#include "kernels/float_reduce.h"

namespace mcusplit::kernels {

void reduce_mean_f32(const ReduceShape& shape, const float* input, float* output) {
  // Output strides over the input's index space: 0 on reduced axes, so every
  // input cell lands on its output cell.
  int64_t out_strides[kMaxRank] = {};
  int64_t out_count = 1;
  int64_t in_count = 1;
  for (int d = shape.rank - 1; d >= 0; --d) {
    in_count *= shape.dims[d];
    if (shape.reduced[d]) continue;
    out_strides[d] = out_count;
    out_count *= shape.dims[d];
  }
  for (int64_t j = 0; j < out_count; ++j) output[j] = 0.0f;

  int64_t index[kMaxRank] = {};
  for (int64_t i = 0; i < in_count; ++i) {
    int64_t j = 0;
    for (int d = 0; d < shape.rank; ++d) j += index[d] * out_strides[d];
    output[j] += input[i];
    for (int d = shape.rank - 1; d >= 0; --d) {
      if (++index[d] < shape.dims[d]) break;
      index[d] = 0;
    }
  }
  if (out_count == 0) return;
  const float per_output = static_cast<float>(in_count / out_count);
  for (int64_t j = 0; j < out_count; ++j) output[j] /= per_output;
}

void global_average_pool_f32(int64_t planes, int64_t plane_size, const float* input,
                             float* output) {
  for (int64_t c = 0; c < planes; ++c) {
    const float* plane = input + c * plane_size;
    float sum = 0.0f;
    for (int64_t i = 0; i < plane_size; ++i) sum += plane[i];
    output[c] = sum / static_cast<float>(plane_size);
  }
}

}  // namespace mcusplit::kernels
