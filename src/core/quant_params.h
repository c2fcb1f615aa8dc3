// Quantization parameters of the TFLite int8 scheme. Freestanding.
#pragma once

#include <cmath>
#include <cstdint>

namespace mcusplit::core {

// Per-tensor activation quantization: real = scale * (q - zero_point). The
// scale is kept for the host (quantizer, reports); kernels only see integers.
struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;  // in [-128, 127]
  friend bool operator==(const QuantParams&, const QuantParams&) = default;
};

// Per output channel requantization (index = output channel, see each
// kernel's params for the first channel the arrays hold).
struct PerChannelRequant {
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  friend bool operator==(const PerChannelRequant&, const PerChannelRequant&) = default;
};

// Fused activation as an int8 output clamp (ReLU/ReLU6 fold into this).
struct ActivationRange {
  int32_t min = -128;
  int32_t max = 127;
  friend bool operator==(const ActivationRange&, const ActivationRange&) = default;
};

// Clamp for a real-valued range [lo, hi] (use +-INFINITY for no bound), as
// TFLite's CalculateActivationRangeQuantized. Host side.
inline ActivationRange quantized_activation_range(const QuantParams& q, float lo, float hi) {
  // round(x / scale) as TFLite computes it, held within int32 before the
  // conversion (a tiny scale would overflow it); the clamp to int8 below
  // makes any value past the bound the same.
  const auto steps = [&](float x) {
    const float r = std::round(x / q.scale);
    constexpr float kBound = 1e9f;
    return static_cast<int32_t>(r > kBound ? kBound : r < -kBound ? -kBound : r);
  };
  ActivationRange r;
  if (std::isfinite(lo)) {
    const auto v = q.zero_point + steps(lo);
    r.min = v > r.min ? v : r.min;
  }
  if (std::isfinite(hi)) {
    const auto v = q.zero_point + steps(hi);
    r.max = v < r.max ? v : r.max;
  }
  return r;
}

}  // namespace mcusplit::core
