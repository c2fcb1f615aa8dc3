// The float range [min, max] an activation tensor takes, as calibration
// measured it.
#pragma once

#include <limits>

namespace mcusplit::quant {

struct TensorRange {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();

  // False until at least one value was seen (e.g. for constant tensors).
  bool recorded() const { return min <= max; }
};

}  // namespace mcusplit::quant
