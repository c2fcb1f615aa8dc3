#include "host/latency_summary.h"

#include <algorithm>
#include <cstddef>

namespace mcusplit::host {
namespace {

LatencyPercentiles percentiles(std::vector<double>::const_iterator begin,
                               std::vector<double>::const_iterator end) {
  const std::vector<double> part(begin, end);
  return {part.size(), nearest_rank_percentile(part, 50), nearest_rank_percentile(part, 99)};
}

}  // namespace

double nearest_rank_percentile(std::vector<double> latency_s, int percent) {
  const size_t n = latency_s.size();
  // Rank ceil(percent * n / 100), 1-based, in integers: exact at any n.
  const size_t rank = (static_cast<size_t>(percent) * n + 99) / 100;
  const size_t index = std::clamp<size_t>(rank, 1, n) - 1;
  std::nth_element(latency_s.begin(), latency_s.begin() + static_cast<std::ptrdiff_t>(index),
                   latency_s.end());
  return latency_s[index];
}

LatencySummary summarize_latencies(const std::vector<double>& latency_s) {
  LatencySummary s;
  double busy_s = 0;
  for (double l : latency_s) {
    s.mean_s += l / static_cast<double>(latency_s.size());
    busy_s += l;
  }
  std::vector<double> sorted = latency_s;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  s.median_s = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  s.throughput_per_s = static_cast<double>(n) / busy_s;
  s.all = percentiles(latency_s.begin(), latency_s.end());
  const auto tenth = static_cast<std::ptrdiff_t>(std::max<size_t>(n / 10, 1));
  s.first_tenth = percentiles(latency_s.begin(), latency_s.begin() + tenth);
  s.last_tenth = percentiles(latency_s.end() - tenth, latency_s.end());
  return s;
}

}  // namespace mcusplit::host
