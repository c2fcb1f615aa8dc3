// A dense float tensor value, row-major in the order of its dims.
#pragma once

#include <vector>

#include "model/graph.h"

namespace mcusplit::model {

struct FloatTensor {
  Dims shape;
  std::vector<float> data;

  FloatTensor() = default;
  FloatTensor(Dims s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {}
  explicit FloatTensor(Dims s)
      : shape(std::move(s)), data(static_cast<size_t>(element_count(shape))) {}
};

}  // namespace mcusplit::model
