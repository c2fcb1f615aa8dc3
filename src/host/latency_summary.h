// The figures `mcusplit run` reports of its inferences' latencies: mean,
// median and throughput, and for long runs (a soak) the 50th and 99th
// percentiles overall and of the first and the last tenth, whose comparison
// shows whether latency drifts.
#pragma once

#include <cstddef>
#include <vector>

namespace mcusplit::host {

// The 50th and 99th percentiles of some inferences, nearest rank (each is one
// of the measured latencies, no interpolation).
struct LatencyPercentiles {
  size_t count = 0;
  double p50_s = 0;
  double p99_s = 0;
};

struct LatencySummary {
  double mean_s = 0;
  double median_s = 0;
  // Inferences per second: they run back to back, one at a time.
  double throughput_per_s = 0;
  LatencyPercentiles all;
  // The first and the last n / 10 inferences (with fewer than 10, the first
  // and the last one).
  LatencyPercentiles first_tenth;
  LatencyPercentiles last_tenth;
};

// The nearest-rank `percent`th percentile (1 to 100) of `latency_s`: the
// smallest value with at least that percentage of them at or below it.
// `latency_s` is not empty.
double nearest_rank_percentile(std::vector<double> latency_s, int percent);

// `latency_s` holds at least one latency, in the order they ran.
LatencySummary summarize_latencies(const std::vector<double>& latency_s);

}  // namespace mcusplit::host
