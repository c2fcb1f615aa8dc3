// `run --repeat`'s latency figures (host/latency_summary.h): mean, median and
// throughput, nearest-rank percentiles, and the first and last tenth a soak
// compares to see whether latency drifts.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "host/latency_summary.h"

namespace mcusplit::host {
namespace {

// 1, 2, ..., n in a shuffled order: percentile p of them is ceil(p * n / 100).
std::vector<double> shuffled_ranks(int n) {
  std::vector<double> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 1.0);
  std::shuffle(v.begin(), v.end(), std::mt19937(7));
  return v;
}

TEST(LatencySummary, NearestRankPercentileIsAMeasuredValueAtTheCeilingRank) {
  const std::vector<double> hundred = shuffled_ranks(100);
  EXPECT_EQ(nearest_rank_percentile(hundred, 1), 1.0);
  EXPECT_EQ(nearest_rank_percentile(hundred, 50), 50.0);
  EXPECT_EQ(nearest_rank_percentile(hundred, 99), 99.0);
  EXPECT_EQ(nearest_rank_percentile(hundred, 100), 100.0);
  // Ten values: the 99th percentile is the largest, the 50th the fifth.
  const std::vector<double> ten = shuffled_ranks(10);
  EXPECT_EQ(nearest_rank_percentile(ten, 50), 5.0);
  EXPECT_EQ(nearest_rank_percentile(ten, 99), 10.0);
  // 1000 values: rank 990 for p99, exactly (no rounding up to 991).
  EXPECT_EQ(nearest_rank_percentile(shuffled_ranks(1000), 99), 990.0);
  EXPECT_EQ(nearest_rank_percentile(shuffled_ranks(1001), 99), 991.0);
  EXPECT_EQ(nearest_rank_percentile({0.25}, 50), 0.25);
  EXPECT_EQ(nearest_rank_percentile({0.25}, 99), 0.25);
}

TEST(LatencySummary, MeanMedianAndThroughput) {
  const LatencySummary odd = summarize_latencies({0.3, 0.1, 0.2});
  EXPECT_DOUBLE_EQ(odd.mean_s, 0.2);
  EXPECT_DOUBLE_EQ(odd.median_s, 0.2);
  EXPECT_DOUBLE_EQ(odd.throughput_per_s, 5.0);  // 3 in 0.6 s
  const LatencySummary even = summarize_latencies({0.4, 0.1, 0.2, 0.3});
  EXPECT_DOUBLE_EQ(even.median_s, 0.25);
  // Nearest rank: p50 is a measured latency, where the median averages two.
  EXPECT_EQ(even.all.p50_s, 0.2);
  EXPECT_EQ(even.all.p99_s, 0.4);
  EXPECT_EQ(even.all.count, 4u);
}

// A run whose latency drifts: 1000 inferences taking 1 ms, then 2 ms, ...
// the first tenth 1 ms with one 9 ms outlier, the last tenth 3 ms.
TEST(LatencySummary, TenthsAreTheFirstAndLastInferencesInRunOrder) {
  std::vector<double> l(1000, 0.002);
  std::fill(l.begin(), l.begin() + 100, 0.001);
  std::fill(l.end() - 100, l.end(), 0.003);
  l[42] = 0.009;
  const LatencySummary s = summarize_latencies(l);
  EXPECT_EQ(s.first_tenth.count, 100u);
  EXPECT_EQ(s.last_tenth.count, 100u);
  EXPECT_EQ(s.all.count, 1000u);
  EXPECT_EQ(s.first_tenth.p50_s, 0.001);
  EXPECT_EQ(s.first_tenth.p99_s, 0.001);  // one outlier in 100 is above the 99th
  EXPECT_EQ(s.last_tenth.p50_s, 0.003);
  EXPECT_EQ(s.last_tenth.p99_s, 0.003);
  EXPECT_EQ(s.all.p50_s, 0.002);
  EXPECT_EQ(s.all.p99_s, 0.003);
  // Two outliers in the first tenth reach its 99th percentile.
  l[43] = 0.008;
  EXPECT_EQ(summarize_latencies(l).first_tenth.p99_s, 0.008);
}

TEST(LatencySummary, ATenthIsAtLeastOneInference) {
  // 15 inferences: a tenth is 1 (15 / 10 rounded down).
  std::vector<double> l(15, 0.002);
  l.front() = 0.001;
  l.back() = 0.004;
  const LatencySummary s = summarize_latencies(l);
  EXPECT_EQ(s.first_tenth.count, 1u);
  EXPECT_EQ(s.first_tenth.p99_s, 0.001);
  EXPECT_EQ(s.last_tenth.count, 1u);
  EXPECT_EQ(s.last_tenth.p50_s, 0.004);
  // One inference: every figure is it.
  const LatencySummary one = summarize_latencies({0.005});
  EXPECT_EQ(one.first_tenth.count, 1u);
  EXPECT_EQ(one.last_tenth.count, 1u);
  EXPECT_EQ(one.first_tenth.p50_s, 0.005);
  EXPECT_EQ(one.last_tenth.p99_s, 0.005);
  EXPECT_EQ(one.all.p99_s, 0.005);
}

}  // namespace
}  // namespace mcusplit::host
