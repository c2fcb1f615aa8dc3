#include "plan/layer_geometry.h"

#include <algorithm>

#include "kernels/int8_add.h"
#include "kernels/int8_concat.h"
#include "kernels/int8_conv.h"
#include "kernels/int8_global_average_pool.h"
#include "kernels/int8_pool.h"

namespace mcusplit::plan {

using core::Box;
using quant::QLayer;
using quant::QOpType;

namespace {

const core::TensorShape3& shape_of(const quant::QGraph& g, int tensor) {
  return g.tensors[static_cast<size_t>(tensor)].shape;
}

// Rows of `in` holding flat NHWC elements [first, last] of the output.
Box reshape_rows(const core::TensorShape3& in, const core::TensorShape3& out, const Box& b) {
  const int64_t out_row = int64_t{out.w} * out.c;
  const int64_t first = int64_t{b.y0} * out_row + int64_t{b.x0} * out.c + b.c0;
  const int64_t last = int64_t{b.y1 - 1} * out_row + int64_t{b.x1 - 1} * out.c + (b.c1 - 1);
  const int64_t in_row = int64_t{in.w} * in.c;
  return Box{0, in.c, static_cast<int32_t>(first / in_row), static_cast<int32_t>(last / in_row + 1),
             0, in.w};
}

}  // namespace

Box required_box(const quant::QGraph& graph, const QLayer& layer, int input_index,
                 const Box& out_box) {
  if (out_box.empty()) return Box{};
  const auto& in_shape = shape_of(graph, layer.inputs[static_cast<size_t>(input_index)]);
  switch (layer.op) {
    case QOpType::Conv:
      return kernels::required_input_box(layer.conv, out_box);
    case QOpType::FullyConnected:
      return core::full_box(in_shape);
    case QOpType::Add:
      return kernels::required_input_box(layer.add, out_box);
    case QOpType::MaxPool:
    case QOpType::AveragePool:
      return kernels::required_input_box(layer.pool, out_box);
    case QOpType::GlobalAveragePool:
      return kernels::required_input_box(layer.global_pool, out_box);
    case QOpType::Concat:
      return kernels::required_input_box(layer.concat[static_cast<size_t>(input_index)], out_box);
    case QOpType::Reshape: {
      const auto& out_shape = shape_of(graph, layer.output);
      if (in_shape == out_shape) return out_box;
      return reshape_rows(in_shape, out_shape, out_box);
    }
  }
  return core::full_box(in_shape);
}

int64_t box_macs(const QLayer& layer, const Box& out_box) {
  if (out_box.empty()) return 0;
  if (layer.op == QOpType::Conv) {
    const auto& p = layer.conv;
    return int64_t{out_box.volume()} * p.kernel_h * p.kernel_w * (p.input.c / p.groups);
  }
  if (layer.op == QOpType::FullyConnected) return int64_t{out_box.channels()} * layer.fc.input_size;
  return 0;
}

int64_t box_work(const quant::QGraph& graph, const QLayer& layer, const Box& out_box) {
  if (out_box.empty()) return 0;
  const int64_t values = out_box.volume();
  switch (layer.op) {
    case QOpType::Conv:
    case QOpType::FullyConnected:
      return box_macs(layer, out_box);
    case QOpType::Add:
      return 3 * values;
    case QOpType::MaxPool:
    case QOpType::AveragePool:
      return values * (int64_t{layer.pool.kernel_h} * layer.pool.kernel_w + 1);
    case QOpType::GlobalAveragePool:
      return required_box(graph, layer, 0, out_box).volume() + values;
    case QOpType::Concat:
    case QOpType::Reshape:
      return 2 * values;
  }
  return values;
}

bool has_channel_constants(const QLayer& layer) {
  return layer.op == QOpType::Conv || layer.op == QOpType::FullyConnected;
}

int64_t slice_constant_bytes(const QLayer& layer, int32_t c0, int32_t c1) {
  if (!has_channel_constants(layer) || c1 <= c0) return 0;
  const int64_t channels = layer.op == QOpType::Conv ? layer.conv.output.c : layer.fc.output_size;
  if (channels <= 0) return 0;
  const int64_t n = c1 - c0;
  const int64_t weight_row = static_cast<int64_t>(layer.weights.size()) / channels;
  const int64_t bias = layer.bias.empty() ? 0 : n;
  const int64_t requant = std::min<int64_t>(static_cast<int64_t>(layer.multiplier.size()), n);
  return n * weight_row + 4 * (bias + 2 * requant);
}

}  // namespace mcusplit::plan
