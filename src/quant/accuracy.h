// Top-1 accuracy of a classifier on a labelled IDX data set, for the float
// graph and for the int8 graph, with the predictions kept so the two can be
// compared image by image.
#pragma once

#include <cstdint>
#include <vector>

#include "model/graph.h"
#include "model/idx_dataset.h"
#include "quant/qgraph.h"

namespace mcusplit::quant {

struct AccuracyResult {
  int64_t count = 0;
  int64_t correct = 0;
  std::vector<int32_t> predictions;  // arg-max class per image

  double accuracy() const {
    return count == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(count);
  }
};

// Runs the first `limit` images (all when limit <= 0). Throws mcusplit::Error
// when images and labels disagree in count or the model input does not take
// the images.
AccuracyResult evaluate_float(const model::Graph& prepared, const model::IdxImages& images,
                              const std::vector<uint8_t>& labels,
                              const model::GreyNormalization& normalization, int64_t limit = 0);
AccuracyResult evaluate_int8(const QGraph& graph, const model::IdxImages& images,
                             const std::vector<uint8_t>& labels,
                             const model::GreyNormalization& normalization, int64_t limit = 0);

// Fraction of images on which both runs predict the same class.
double top1_agreement(const AccuracyResult& a, const AccuracyResult& b);

}  // namespace mcusplit::quant
