// Reordering a batch-1 tensor between ONNX's NCHW order and the NHWC order
// the int8 graph and its kernels use (one home for both directions and any
// element type).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/box.h"

namespace mcusplit::quant {

// NHWC values of `shape` in NCHW order (the plain vector for a {n,1,1} shape).
template <class T>
std::vector<T> nhwc_to_nchw(const core::TensorShape3& shape, const std::vector<T>& nhwc) {
  const auto [c, h, w] = shape;
  std::vector<T> nchw(nhwc.size());
  for (int32_t ci = 0; ci < c; ++ci) {
    for (int32_t y = 0; y < h; ++y) {
      for (int32_t x = 0; x < w; ++x) {
        nchw[(static_cast<size_t>(ci) * h + y) * w + x] =
            nhwc[(static_cast<size_t>(y) * w + x) * c + ci];
      }
    }
  }
  return nchw;
}

// The inverse: NCHW values of `shape` in NHWC order.
template <class T>
std::vector<T> nchw_to_nhwc(const core::TensorShape3& shape, const std::vector<T>& nchw) {
  const auto [c, h, w] = shape;
  std::vector<T> nhwc(nchw.size());
  for (int32_t ci = 0; ci < c; ++ci) {
    for (int32_t y = 0; y < h; ++y) {
      for (int32_t x = 0; x < w; ++x) {
        nhwc[(static_cast<size_t>(y) * w + x) * c + ci] =
            nchw[(static_cast<size_t>(ci) * h + y) * w + x];
      }
    }
  }
  return nhwc;
}

}  // namespace mcusplit::quant
