#include "quant/weight_quantization.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/fixed_point.h"

namespace mcusplit::quant {

PerChannelWeights quantize_per_channel(const std::vector<float>& rows, int64_t channels) {
  PerChannelWeights w;
  const size_t row = channels > 0 ? rows.size() / static_cast<size_t>(channels) : 0;
  w.values.resize(rows.size());
  w.scales.resize(static_cast<size_t>(channels));
  for (size_t c = 0; c < w.scales.size(); ++c) {
    const float* r = rows.data() + c * row;
    float max_abs = 0.0f;
    for (size_t i = 0; i < row; ++i) max_abs = std::max(max_abs, std::fabs(r[i]));
    const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
    w.scales[c] = scale;
    for (size_t i = 0; i < row; ++i) {
      const double v = std::round(static_cast<double>(r[i]) / static_cast<double>(scale));
      w.values[c * row + i] = static_cast<int8_t>(std::clamp(v, -127.0, 127.0));
    }
  }
  return w;
}

Requantization requantization(const std::vector<float>& bias, const std::vector<float>& w_scales,
                              const core::QuantParams& in, const core::QuantParams& out) {
  Requantization r;
  for (size_t c = 0; c < w_scales.size(); ++c) {
    const double accumulator_scale =
        static_cast<double>(in.scale) * static_cast<double>(w_scales[c]);
    if (!bias.empty()) {
      const double b = std::round(static_cast<double>(bias[c]) / accumulator_scale);
      constexpr double lo = std::numeric_limits<int32_t>::min();
      constexpr double hi = std::numeric_limits<int32_t>::max();
      r.bias.push_back(static_cast<int32_t>(std::clamp(b, lo, hi)));
    }
    const auto m = core::quantize_multiplier(accumulator_scale / static_cast<double>(out.scale));
    r.multiplier.push_back(m.multiplier);
    r.shift.push_back(m.shift);
  }
  return r;
}

}  // namespace mcusplit::quant
