// Small pieces the operator records (kernels/op_*.cpp) share. Freestanding.
#pragma once

#include <cstdint>

#include "kernels/op_registry.h"

namespace mcusplit::kernels::op_util {

constexpr uint32_t kU32Max = 0xffffffffu;

// rows * taps as a u32 element count; false on overflow.
inline bool element_count(int64_t rows, int64_t taps, uint32_t* out) {
  if (rows <= 0 || taps <= 0 || rows > kU32Max || taps > kU32Max) return false;
  const uint64_t n = static_cast<uint64_t>(rows) * static_cast<uint64_t>(taps);
  if (n > kU32Max) return false;
  *out = static_cast<uint32_t>(n);
  return true;
}

inline bool positive_window(int32_t kh, int32_t kw, int32_t sh, int32_t sw) {
  return kh > 0 && kw > 0 && sh > 0 && sw > 0;
}

// Conv and FullyConnected params name their constant pointers alike: one
// binding for both.
template <class P>
void bind_arrays(P& p, const ConstantArrays& a) {
  p.weights = a.weights;
  p.bias = a.bias;
  p.requant = {a.multiplier, a.shift};
}

template <class P>
ConstantArrays bound_arrays(const P& p) {
  return ConstantArrays{p.weights, p.bias, p.requant.multiplier, p.requant.shift};
}

// Operators without MACs.
inline int64_t no_macs(const OpLayer&, const Box&) {
  return 0;
}

}  // namespace mcusplit::kernels::op_util
