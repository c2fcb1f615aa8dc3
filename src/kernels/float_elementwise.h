// Float reference kernels for elementwise operators.
#pragma once

#include <cstdint>

namespace mcusplit::kernels {

// Broadcasting is resolved by the caller into per-element strides (0 for a
// broadcast dimension); rank is at most kMaxRank.
inline constexpr int kMaxRank = 8;

struct BroadcastShape {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t a_strides[kMaxRank] = {};
  int64_t b_strides[kMaxRank] = {};
};

// out[i] = a[ia] + b[ib] over the broadcast output shape.
void add_f32(const BroadcastShape& shape, const float* a, const float* b, float* out);

// out[i] = in[i] clamped to [min, max] (Relu is [0, inf)); in may equal out.
void clamp_f32(int64_t count, float min, float max, const float* in, float* out);

}  // namespace mcusplit::kernels
