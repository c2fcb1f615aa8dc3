#include "quant/accuracy.h"

#include <algorithm>
#include <string>

#include "common/error.h"
#include "model/float_executor.h"
#include "quant/int8_executor.h"

namespace mcusplit::quant {
namespace {

int64_t images_to_run(const model::IdxImages& images, const std::vector<uint8_t>& labels,
                      int64_t limit) {
  if (static_cast<int64_t>(labels.size()) != images.count) {
    throw Error("the IDX files disagree: " + std::to_string(images.count) + " images but " +
                std::to_string(labels.size()) + " labels");
  }
  return limit > 0 ? std::min(limit, images.count) : images.count;
}

// First maximum wins, so ties resolve the same way in every run.
template <typename T>
int32_t arg_max(const T* values, size_t count) {
  return static_cast<int32_t>(std::max_element(values, values + count) - values);
}

void record(AccuracyResult& r, int32_t predicted, uint8_t label) {
  r.predictions.push_back(predicted);
  r.correct += predicted == static_cast<int32_t>(label);
  ++r.count;
}

}  // namespace

AccuracyResult evaluate_float(const model::Graph& prepared, const model::IdxImages& images,
                              const std::vector<uint8_t>& labels,
                              const model::GreyNormalization& normalization, int64_t limit) {
  const int64_t n = images_to_run(images, labels, limit);
  if (prepared.inputs.size() != 1) throw Error("evaluation needs a model with one input");
  const model::Dims& input_shape = prepared.tensors[static_cast<size_t>(prepared.inputs[0])].shape;
  AccuracyResult r;
  for (int64_t i = 0; i < n; ++i) {
    const auto out = model::run_graph(
        prepared, {model::idx_image_tensor(images, i, input_shape, normalization)});
    record(r, arg_max(out[0].data.data(), out[0].data.size()), labels[static_cast<size_t>(i)]);
  }
  return r;
}

AccuracyResult evaluate_int8(const QGraph& graph, const model::IdxImages& images,
                             const std::vector<uint8_t>& labels,
                             const model::GreyNormalization& normalization, int64_t limit) {
  const int64_t n = images_to_run(images, labels, limit);
  const core::TensorShape3& in = graph.tensors[static_cast<size_t>(graph.input)].shape;
  const model::Dims input_shape{1, in.c, in.h, in.w};
  Int8Executor executor(graph);
  std::vector<int8_t> output(
      static_cast<size_t>(graph.tensors[static_cast<size_t>(graph.output)].bytes()));
  AccuracyResult r;
  for (int64_t i = 0; i < n; ++i) {
    const auto x = model::idx_image_tensor(images, i, input_shape, normalization);
    const auto q = quantize_input(graph, x.data);
    executor.run(q.data(), output.data());
    // Dequantization is monotonic, so the int8 arg-max is the class.
    record(r, arg_max(output.data(), output.size()), labels[static_cast<size_t>(i)]);
  }
  return r;
}

double top1_agreement(const AccuracyResult& a, const AccuracyResult& b) {
  const size_t n = std::min(a.predictions.size(), b.predictions.size());
  if (n == 0) return 0.0;
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) same += a.predictions[i] == b.predictions[i];
  return static_cast<double>(same) / static_cast<double>(n);
}

}  // namespace mcusplit::quant
