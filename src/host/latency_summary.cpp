#include "host/latency_summary.h"

#include <algorithm>

namespace mcusplit::host {

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
  return s;
}

}  // namespace mcusplit::host
