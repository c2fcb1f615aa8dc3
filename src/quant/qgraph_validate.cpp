#include "quant/qgraph_validate.h"

#include <fmt/format.h>

#include "common/error.h"

namespace mcusplit::quant {
namespace {

class Checker {
 public:
  Checker(const QGraph& g, const std::string& origin) : g_(g), origin_(origin) {}

  void run() {
    for (size_t t = 0; t < g_.tensors.size(); ++t) {
      const QTensor& q = g_.tensors[t];
      if (!(q.shape.c > 0 && q.shape.h > 0 && q.shape.w > 0) || !(q.quant.scale > 0.0f) ||
          q.quant.zero_point < -128 || q.quant.zero_point > 127) {
        fail(fmt::format("tensor '{}' has a bad shape or quantization", q.name));
      }
    }
    if (!valid_tensor(g_.input) || !valid_tensor(g_.output))
      fail("graph input or output index out of range");
    for (const QLayer& l : g_.layers) check_layer(l);
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(fmt::format("'{}': invalid int8 graph: {}", origin_, problem));
  }
  bool valid_tensor(int t) const { return t >= 0 && static_cast<size_t>(t) < g_.tensors.size(); }
  const core::TensorShape3& shape(int t) const { return g_.tensors[static_cast<size_t>(t)].shape; }

  void expect(const QLayer& l, bool ok, const char* what) const {
    if (!ok) fail(fmt::format("layer '{}' ({}): {}", l.name, qop_type_name(l.op), what));
  }

  // Bias is per output channel; requantization per channel, or one pair for
  // all (a per-tensor fully connected layer).
  void check_arrays(const QLayer& l, int64_t channels, int64_t requant, int64_t weights) const {
    expect(l, channels > 0, "empty weight slice");
    expect(l, static_cast<int64_t>(l.weights.size()) == weights, "weight count mismatch");
    expect(l, l.bias.empty() || static_cast<int64_t>(l.bias.size()) == channels,
           "bias count mismatch");
    expect(l,
           static_cast<int64_t>(l.multiplier.size()) == requant &&
               static_cast<int64_t>(l.shift.size()) == requant,
           "requantization count mismatch");
  }

  void check_layer(const QLayer& l) const {
    expect(l, valid_tensor(l.output), "output index out of range");
    for (int t : l.inputs) expect(l, valid_tensor(t), "input index out of range");
    const size_t n_inputs = l.op == QOpType::Add      ? 2
                            : l.op == QOpType::Concat ? l.concat.size()
                                                      : 1;
    expect(l, l.inputs.size() == n_inputs && n_inputs > 0, "wrong number of inputs");
    const core::TensorShape3& out = shape(l.output);
    const core::TensorShape3& in = shape(l.inputs[0]);
    switch (l.op) {
      case QOpType::Conv: {
        const auto& p = l.conv;
        expect(l, p.input == in && p.output == out, "params disagree with the tensor shapes");
        expect(l, p.groups > 0 && in.c % p.groups == 0 && out.c % p.groups == 0, "bad groups");
        expect(l,
               p.kernel_h > 0 && p.kernel_w > 0 && p.stride_h > 0 && p.stride_w > 0 &&
                   p.dilation_h > 0 && p.dilation_w > 0,
               "bad window");
        expect(l, 0 <= p.weights_c0 && p.weights_c0 < p.weights_c1 && p.weights_c1 <= out.c,
               "bad weight slice");
        const int64_t channels = p.weights_c1 - p.weights_c0;
        check_arrays(l, channels, channels, channels * p.kernel_h * p.kernel_w * (in.c / p.groups));
        break;
      }
      case QOpType::FullyConnected: {
        const auto& p = l.fc;
        expect(l, p.input_size == in.volume() && p.output_size == out.volume(),
               "params disagree with the tensor shapes");
        expect(l, 0 <= p.weights_n0 && p.weights_n0 < p.weights_n1 && p.weights_n1 <= p.output_size,
               "bad weight slice");
        const int64_t channels = p.weights_n1 - p.weights_n0;
        check_arrays(l, channels, p.per_tensor_requant ? 1 : channels, channels * p.input_size);
        break;
      }
      case QOpType::Add:
        expect(l, l.add.shape == out && in == out && shape(l.inputs[1]) == out,
               "params disagree with the tensor shapes");
        break;
      case QOpType::MaxPool:
      case QOpType::AveragePool:
        expect(l, l.pool.input == in && l.pool.output == out && in.c == out.c,
               "params disagree with the tensor shapes");
        expect(l,
               l.pool.kernel_h > 0 && l.pool.kernel_w > 0 && l.pool.stride_h > 0 &&
                   l.pool.stride_w > 0,
               "bad window");
        break;
      case QOpType::GlobalAveragePool:
        expect(l, l.global_pool.input == in && out == core::TensorShape3{in.c, 1, 1},
               "params disagree with the tensor shapes");
        break;
      case QOpType::Concat:
        for (size_t i = 0; i < l.concat.size(); ++i) {
          expect(l, l.concat[i].input == shape(l.inputs[i]) && l.concat[i].output == out,
                 "params disagree with the tensor shapes");
        }
        break;
      case QOpType::Reshape:
        expect(l, in.volume() == out.volume(), "element count changes");
        break;
    }
  }

  const QGraph& g_;
  const std::string& origin_;
};

}  // namespace

void validate_qgraph(const QGraph& graph, const std::string& origin) {
  Checker(graph, origin).run();
}

}  // namespace mcusplit::quant
