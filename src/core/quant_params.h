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
  ActivationRange r;
  if (std::isfinite(lo)) {
    const auto v = q.zero_point + static_cast<int32_t>(std::round(lo / q.scale));
    r.min = v > r.min ? v : r.min;
  }
  if (std::isfinite(hi)) {
    const auto v = q.zero_point + static_cast<int32_t>(std::round(hi / q.scale));
    r.max = v < r.max ? v : r.max;
  }
  return r;
}

}  // namespace mcusplit::core
