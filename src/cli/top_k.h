// Top-k scores of a classifier output, with softmax probabilities.
#pragma once

#include <cstdint>
#include <vector>

namespace mcusplit::cli {

struct ClassScore {
  int64_t index;
  float score;        // the raw output value
  float probability;  // softmax over the row
};

std::vector<ClassScore> top_k(const float* row, int64_t count, int k);

}  // namespace mcusplit::cli
