// Hand-built int8 graphs with seeded random weights and quantization, and a
// straightforward evaluator of them (one std::vector per tensor, no arena):
// the executor's tests compare the two bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/int8_conv_dispatch.h"
#include "quant/qgraph.h"

namespace mcusplit::testing {

using core::TensorShape3;
using quant::OpType;
using quant::QGraph;
using quant::QLayer;
using quant::QTensor;

class QGraphBuilder {
 public:
  explicit QGraphBuilder(uint32_t seed) : gen_(seed) {}

  int input(const TensorShape3& shape) {
    g_.input = add_tensor("input", shape);
    return g_.input;
  }

  // Conv with symmetric padding `pad`; groups == channels for depthwise.
  int conv(int in, int out_channels, int kernel, int stride, int pad, int groups = 1,
           bool relu = false) {
    const TensorShape3 is = shape(in);
    const int32_t oh = (is.h + 2 * pad - kernel) / stride + 1;
    const int32_t ow = (is.w + 2 * pad - kernel) / stride + 1;
    QLayer& l = add_layer(OpType::Conv, {in}, TensorShape3{out_channels, oh, ow});
    auto& p = l.conv;
    p.input = is;
    p.output = shape(l.output);
    p.kernel_h = p.kernel_w = kernel;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = pad;
    p.groups = groups;
    p.input_zero_point = quant(in).zero_point;
    p.output_zero_point = quant(l.output).zero_point;
    if (relu) p.activation.min = p.output_zero_point;
    p.weights_c1 = out_channels;  // every channel's constants, as the quantizer writes
    const int32_t k = kernel * kernel * (is.c / groups);
    fill_constants(l, out_channels, k);
    return l.output;
  }

  int fully_connected(int in, int outputs) {
    const int32_t k = static_cast<int32_t>(g_.tensors[static_cast<size_t>(in)].bytes());
    QLayer& l = add_layer(OpType::FullyConnected, {in}, TensorShape3{outputs, 1, 1});
    l.fc.input_size = k;
    l.fc.output_size = outputs;
    l.fc.input_zero_point = quant(in).zero_point;
    l.fc.output_zero_point = quant(l.output).zero_point;
    l.fc.weights_n1 = outputs;
    fill_constants(l, outputs, k);
    return l.output;
  }

  int add(int a, int b, bool relu = false) {
    QLayer& l = add_layer(OpType::Add, {a, b}, shape(a));
    core::ActivationRange act;
    if (relu) act.min = quant(l.output).zero_point;
    l.add = kernels::make_int8_add_params(shape(a), quant(a), quant(b), quant(l.output), act);
    return l.output;
  }

  int pool(OpType op, int in, int kernel, int stride, int pad) {
    const TensorShape3 is = shape(in);
    const int32_t oh = (is.h + 2 * pad - kernel) / stride + 1;
    const int32_t ow = (is.w + 2 * pad - kernel) / stride + 1;
    // Pools keep the input's quantization.
    QLayer& l = add_layer(op, {in}, TensorShape3{is.c, oh, ow}, quant(in));
    auto& p = l.pool;
    p.input = is;
    p.output = shape(l.output);
    p.kernel_h = p.kernel_w = kernel;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = pad;
    return l.output;
  }

  int global_average_pool(int in) {
    const TensorShape3 is = shape(in);
    QLayer& l = add_layer(OpType::GlobalAveragePool, {in}, TensorShape3{is.c, 1, 1});
    l.global_pool = kernels::make_int8_global_average_pool_params(is, quant(in), quant(l.output));
    return l.output;
  }

  int concat(const std::vector<int>& ins) {
    TensorShape3 os = shape(ins[0]);
    os.c = 0;
    for (int t : ins) os.c += shape(t).c;
    QLayer& l = add_layer(OpType::Concat, ins, os);
    int32_t offset = 0;
    for (int t : ins) {
      kernels::Int8ConcatParams p;
      p.input = shape(t);
      p.output = os;
      p.offset_c = offset;
      kernels::set_int8_concat_quantization(p, quant(t), quant(l.output));
      offset += p.input.c;
      l.concat.push_back(p);
    }
    return l.output;
  }

  int reshape(int in, const TensorShape3& to) {
    QLayer& l = add_layer(OpType::Reshape, {in}, to, quant(in));
    l.reshape = kernels::ReshapeParams{shape(in), to};
    return l.output;
  }

  QGraph finish(int output) {
    g_.output = output;
    g_.source_model = "hand-built";
    return g_;
  }

  std::vector<int8_t> random_input() {
    std::vector<int8_t> v(static_cast<size_t>(g_.tensors[static_cast<size_t>(g_.input)].bytes()));
    for (auto& e : v) e = static_cast<int8_t>(uniform(-128, 127));
    return v;
  }

 private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen_); }

  int add_tensor(const std::string& name, const TensorShape3& s) {
    core::QuantParams q;
    q.scale = 0.02f + 0.01f * static_cast<float>(uniform(0, 8));
    q.zero_point = uniform(-20, 20);
    return add_tensor(name, s, q);
  }
  int add_tensor(const std::string& name, const TensorShape3& s, const core::QuantParams& q) {
    g_.tensors.push_back(QTensor{name, s, q});
    return static_cast<int>(g_.tensors.size()) - 1;
  }

  QLayer& add_layer(OpType op, const std::vector<int>& ins, const TensorShape3& out_shape) {
    const std::string name =
        std::string(quant::op_type_name(op)) + "_" + std::to_string(g_.layers.size());
    return add_layer_with(op, ins, add_tensor(name + "_out", out_shape), name);
  }
  QLayer& add_layer(OpType op, const std::vector<int>& ins, const TensorShape3& out_shape,
                    const core::QuantParams& q) {
    const std::string name =
        std::string(quant::op_type_name(op)) + "_" + std::to_string(g_.layers.size());
    return add_layer_with(op, ins, add_tensor(name + "_out", out_shape, q), name);
  }
  QLayer& add_layer_with(OpType op, const std::vector<int>& ins, int out, const std::string& name) {
    QLayer l;
    l.name = name;
    l.op = op;
    l.inputs = ins;
    l.output = out;
    g_.layers.push_back(std::move(l));
    return g_.layers.back();
  }

  // Weights, bias and per-channel requantization that keep outputs spread
  // over the int8 range rather than saturated.
  void fill_constants(QLayer& l, int32_t channels, int32_t k) {
    l.weights.resize(static_cast<size_t>(channels) * static_cast<size_t>(k));
    for (auto& w : l.weights) w = static_cast<int8_t>(uniform(-127, 127));
    l.bias.resize(static_cast<size_t>(channels));
    for (auto& b : l.bias) b = uniform(-2000, 2000);
    const double gain = 40.0 / (std::sqrt(static_cast<double>(k)) * 5500.0);
    for (int32_t c = 0; c < channels; ++c) {
      const auto m = core::quantize_multiplier(gain * (0.6 + 0.1 * uniform(0, 8)));
      l.multiplier.push_back(m.multiplier);
      l.shift.push_back(m.shift);
    }
  }

  TensorShape3 shape(int t) const { return g_.tensors[static_cast<size_t>(t)].shape; }
  core::QuantParams quant(int t) const { return g_.tensors[static_cast<size_t>(t)].quant; }

  QGraph g_;
  std::mt19937 gen_;
};

// Every layer on its own std::vectors with the kernels called directly.
inline std::vector<int8_t> evaluate_without_arena(const QGraph& g,
                                                  const std::vector<int8_t>& input) {
  std::vector<std::vector<int8_t>> values(g.tensors.size());
  values[static_cast<size_t>(g.input)] = input;
  for (const QLayer& l : g.layers) {
    const QTensor& ot = g.tensors[static_cast<size_t>(l.output)];
    std::vector<int8_t> out(static_cast<size_t>(ot.bytes()));
    auto tile = [&](size_t i) {
      const int t = l.inputs[i];
      return kernels::InputTile{values[static_cast<size_t>(t)].data(),
                                core::full_box(g.tensors[static_cast<size_t>(t)].shape)};
    };
    const kernels::OutputTile otile{out.data(), core::full_box(ot.shape)};
    kernels::KernelStatus s = kernels::KernelStatus::Ok;
    // Each kernel gets exactly the scratch it states.
    std::vector<int32_t> scratch_words;
    auto scratch = [&](int32_t bytes) {
      scratch_words.assign(static_cast<size_t>(bytes + 3) / 4, 0);
      return kernels::Scratch{reinterpret_cast<int8_t*>(scratch_words.data()), bytes};
    };
    switch (l.op) {
      case OpType::Conv: {
        kernels::Int8ConvParams p = l.conv;
        p.weights = l.weights.data();
        p.bias = l.bias.data();
        p.requant = {l.multiplier.data(), l.shift.data()};
        p.weights_c0 = 0;
        p.weights_c1 = p.output.c;
        // The general kernel, not the dispatcher.
        s = kernels::int8_conv(p, tile(0), otile,
                               scratch(kernels::int8_conv_scratch_bytes(p, otile.box)));
        break;
      }
      case OpType::FullyConnected: {
        kernels::Int8FullyConnectedParams p = l.fc;
        p.weights = l.weights.data();
        p.bias = l.bias.data();
        p.requant = {l.multiplier.data(), l.shift.data()};
        p.weights_n0 = 0;
        p.weights_n1 = p.output_size;
        s = kernels::int8_fully_connected(
            p, tile(0).data, 0, p.output_size, out.data(),
            scratch(kernels::int8_fully_connected_scratch_bytes(p, 0, p.output_size)));
        break;
      }
      case OpType::Add:
        s = kernels::int8_add(l.add, tile(0), tile(1), otile,
                              scratch(kernels::int8_add_scratch_bytes(l.add, otile.box)));
        break;
      case OpType::MaxPool:
        s = kernels::int8_max_pool(
            l.pool, tile(0), otile,
            scratch(kernels::int8_max_pool_scratch_bytes(l.pool, otile.box)));
        break;
      case OpType::AveragePool:
        s = kernels::int8_average_pool(
            l.pool, tile(0), otile,
            scratch(kernels::int8_average_pool_scratch_bytes(l.pool, otile.box)));
        break;
      case OpType::Softmax:
        s = kernels::int8_softmax(
            l.softmax, tile(0), otile,
            scratch(kernels::int8_softmax_scratch_bytes(l.softmax, otile.box)));
        break;
      case OpType::Pad:
        s = kernels::int8_pad(l.pad, tile(0), otile,
                              scratch(kernels::int8_pad_scratch_bytes(l.pad, otile.box)));
        break;
      case OpType::GlobalAveragePool:
        s = kernels::int8_global_average_pool(
            l.global_pool, tile(0), otile,
            scratch(kernels::int8_global_average_pool_scratch_bytes(l.global_pool, otile.box)));
        break;
      case OpType::Concat:
        for (size_t i = 0; i < l.inputs.size(); ++i) {
          EXPECT_EQ(kernels::int8_concat(
                        l.concat[i], tile(i), tile(i).box, otile,
                        scratch(kernels::int8_concat_scratch_bytes(l.concat[i], tile(i).box))),
                    kernels::KernelStatus::Ok);
        }
        break;
      case OpType::Reshape:
        out = values[static_cast<size_t>(l.inputs[0])];
        break;
    }
    EXPECT_EQ(s, kernels::KernelStatus::Ok) << l.name;
    values[static_cast<size_t>(l.output)] = std::move(out);
  }
  return values[static_cast<size_t>(g.output)];
}

}  // namespace mcusplit::testing
