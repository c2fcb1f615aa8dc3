// Accumulates the values of one tensor over calibration samples and reports
// its range: the exact min/max, or percentiles from a histogram.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/tensor_range.h"

namespace mcusplit::quant {

// Percentile P in (0, 100) clips both tails: the range runs from the
// (100-P)-th to the P-th percentile of all values seen (P = 99.99 drops the
// lowest and the highest 0.01%). P = 100 is the exact min/max and keeps no
// histogram.
//
// The histogram has kBins equal bins over [-R, R), R a power of two (times
// the first sample's largest magnitude); a value beyond R doubles R by merging
// bin pairs, so memory stays fixed and nothing is stored per value. A
// percentile is therefore accurate to one bin (2R / kBins, at most
// 2^-11 of the largest magnitude seen, times 2) and is rounded outwards to a
// bin edge, then clamped to the exact min/max.
class RangeRecorder {
 public:
  static constexpr int kBins = 8192;

  explicit RangeRecorder(double percentile = 100.0);

  // Values must be finite.
  void record(const float* values, size_t count);

  // The exact range (percentile 100) or the percentile range; not recorded()
  // if no value was ever seen.
  TensorRange range() const;
  TensorRange exact_range() const { return exact_; }

 private:
  void grow_to(double magnitude);
  float bin_lower_edge(int bin) const;

  double percentile_;
  TensorRange exact_;
  std::vector<uint64_t> bins_;  // empty at percentile 100
  double half_width_ = 0.0;     // R; 0 until the first value
  uint64_t total_ = 0;
};

}  // namespace mcusplit::quant
