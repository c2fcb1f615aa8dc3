#include "quant/range_recorder.h"

#include <algorithm>
#include <cmath>

namespace mcusplit::quant {

RangeRecorder::RangeRecorder(double percentile) : percentile_(percentile) {
  if (percentile_ < 100.0) bins_.assign(kBins, 0);
}

void RangeRecorder::grow_to(double magnitude) {
  if (half_width_ == 0.0) {
    // A power of two at or above the first magnitude (1 for an all-zero start).
    half_width_ = magnitude > 0.0 ? std::exp2(std::ceil(std::log2(magnitude))) : 1.0;
    if (half_width_ <= magnitude) half_width_ *= 2.0;
    return;
  }
  while (magnitude >= half_width_) {
    // Bin k of [-R, R) lies inside bin kBins/4 + k/2 of [-2R, 2R).
    std::vector<uint64_t> merged(kBins, 0);
    for (int k = 0; k < kBins; ++k)
      merged[static_cast<size_t>(kBins / 4 + k / 2)] += bins_[static_cast<size_t>(k)];
    bins_.swap(merged);
    half_width_ *= 2.0;
  }
}

void RangeRecorder::record(const float* values, size_t count) {
  if (count == 0) return;
  const auto [lo, hi] = std::minmax_element(values, values + count);
  exact_.min = std::min(exact_.min, *lo);
  exact_.max = std::max(exact_.max, *hi);
  total_ += count;
  if (bins_.empty()) return;

  grow_to(std::max(std::fabs(static_cast<double>(*lo)), std::fabs(static_cast<double>(*hi))));
  const double bins_per_unit = kBins / (2.0 * half_width_);
  for (size_t i = 0; i < count; ++i) {
    const double position = (static_cast<double>(values[i]) + half_width_) * bins_per_unit;
    const int bin = std::clamp(static_cast<int>(position), 0, kBins - 1);
    ++bins_[static_cast<size_t>(bin)];
  }
}

float RangeRecorder::bin_lower_edge(int bin) const {
  return static_cast<float>(-half_width_ + bin * (2.0 * half_width_ / kBins));
}

TensorRange RangeRecorder::range() const {
  if (bins_.empty() || total_ == 0) return exact_;
  // Values allowed below the minimum and above the maximum.
  const auto tail = static_cast<uint64_t>(
      std::floor(static_cast<double>(total_) * (100.0 - percentile_) / 100.0));
  TensorRange r;
  uint64_t below = 0;
  for (int b = 0; b < kBins; ++b) {
    below += bins_[static_cast<size_t>(b)];
    if (below > tail) {
      r.min = bin_lower_edge(b);
      break;
    }
  }
  uint64_t above = 0;
  for (int b = kBins - 1; b >= 0; --b) {
    above += bins_[static_cast<size_t>(b)];
    if (above > tail) {
      r.max = bin_lower_edge(b + 1);
      break;
    }
  }
  r.min = std::clamp(r.min, exact_.min, exact_.max);
  r.max = std::clamp(r.max, exact_.min, exact_.max);
  return r;
}

}  // namespace mcusplit::quant
