// Per output channel symmetric int8 weights and the int32 bias and
// fixed-point requantization that go with them (TFLite int8 spec).
#pragma once

#include <cstdint>
#include <vector>

#include "core/quant_params.h"

namespace mcusplit::quant {

struct PerChannelWeights {
  std::vector<int8_t> values;  // [channels][row], in [-127, 127]
  std::vector<float> scales;   // max|w| / 127 per channel (1 for an all-zero row)
};

// `rows` holds `channels` rows of equal length, already in kernel order.
PerChannelWeights quantize_per_channel(const std::vector<float>& rows, int64_t channels);

struct Requantization {
  std::vector<int32_t> bias;  // empty when the layer has no bias
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;
};

// bias[c] = round(b[c] / (in_scale * w_scale[c])) saturated to int32, and
// multiplier/shift of in_scale * w_scale[c] / out_scale. `bias` may be empty.
Requantization requantization(const std::vector<float>& bias, const std::vector<float>& w_scales,
                              const core::QuantParams& in, const core::QuantParams& out);

}  // namespace mcusplit::quant
