#include "cli/top_k.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mcusplit::cli {

std::vector<ClassScore> top_k(const float* row, int64_t count, int k) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  const auto kk = std::min<int64_t>(k, count);
  std::partial_sort(order.begin(), order.begin() + kk, order.end(),
                    [row](int64_t a, int64_t b) { return row[a] > row[b]; });

  // Softmax with the maximum subtracted, so large logits do not overflow.
  const float max = *std::max_element(row, row + count);
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i) sum += std::exp(static_cast<double>(row[i] - max));

  std::vector<ClassScore> result;
  for (int64_t i = 0; i < kk; ++i) {
    const int64_t c = order[static_cast<size_t>(i)];
    const double p = std::exp(static_cast<double>(row[c] - max)) / sum;
    result.push_back({c, row[c], static_cast<float>(p)});
  }
  return result;
}

}  // namespace mcusplit::cli
