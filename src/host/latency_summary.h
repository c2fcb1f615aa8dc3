// The figures `mcusplit run` reports of its inferences' latencies.
#pragma once

#include <vector>

namespace mcusplit::host {

struct LatencySummary {
  double mean_s = 0;
  double median_s = 0;
  // Inferences per second: they run back to back, one at a time.
  double throughput_per_s = 0;
};

// `latency_s` holds at least one latency.
LatencySummary summarize_latencies(const std::vector<double>& latency_s);

}  // namespace mcusplit::host
