#include "plan/layer_geometry.h"

#include <algorithm>

namespace mcusplit::plan {

using core::Box;
using quant::QLayer;

namespace {

const core::TensorShape3& shape_of(const quant::QGraph& g, int tensor) {
  return g.tensors[static_cast<size_t>(tensor)].shape;
}

}  // namespace

Box required_box(const quant::QGraph& graph, const QLayer& layer, int input_index,
                 const Box& out_box) {
  if (out_box.empty()) return Box{};
  const auto& in_shape = shape_of(graph, layer.inputs[static_cast<size_t>(input_index)]);
  return layer.record().required_input_box(layer.view(), input_index, in_shape, out_box);
}

int64_t box_macs(const QLayer& layer, const Box& out_box) {
  if (out_box.empty()) return 0;
  return layer.record().macs(layer.view(), out_box);
}

int64_t box_input_values(const quant::QGraph& graph, const QLayer& layer, const Box& out_box) {
  if (out_box.empty()) return 0;
  int64_t values = 0;
  for (int i = 0; i < static_cast<int>(layer.inputs.size()); ++i) {
    values += required_box(graph, layer, i, out_box).volume();
  }
  return values;
}

int64_t box_work(const QLayer& layer, const Box& out_box) {
  if (out_box.empty()) return 0;
  return layer.record().work(layer.view(), out_box);
}

int64_t box_scratch_bytes(const QLayer& layer, const Box& out_box) {
  if (out_box.empty()) return 0;
  return layer.record().scratch_bytes(layer.view(), out_box);
}

bool has_channel_constants(const QLayer& layer) {
  return layer.record().channel_constants != nullptr;
}

int64_t slice_constant_bytes(const QLayer& layer, int32_t c0, int32_t c1) {
  const kernels::ChannelConstants* constants = layer.record().channel_constants;
  if (constants == nullptr || c1 <= c0) return 0;
  const int64_t channels = constants->channels(layer);
  if (channels <= 0) return 0;
  const int64_t n = c1 - c0;
  const int64_t weight_row = static_cast<int64_t>(layer.weights.size()) / channels;
  const int64_t bias = layer.bias.empty() ? 0 : n;
  const int64_t requant = std::min<int64_t>(static_cast<int64_t>(layer.multiplier.size()), n);
  return n * weight_row + 4 * (bias + 2 * requant);
}

}  // namespace mcusplit::plan
