#include "quant/qgraph_validate.h"

#include <fmt/format.h>

#include <cstdint>
#include <vector>

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
      // The kernels and their checks count elements in int32 (volume()); c * h
      // first, so that the product cannot overflow int64 either.
      const int64_t ch = int64_t{q.shape.c} * q.shape.h;
      if (ch > INT32_MAX || ch * q.shape.w > INT32_MAX) {
        fail(fmt::format("tensor '{}' has a shape {}x{}x{} of more than 2^31 - 1 elements", q.name,
                         q.shape.c, q.shape.h, q.shape.w));
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
    if (!ok) fail(fmt::format("layer '{}' ({}): {}", l.name, op_type_name(l.op), what));
  }

  // Bias is per output channel; requantization per channel, or one pair for
  // all (a per-tensor fully connected layer).
  void check_arrays(const QLayer& l, int64_t channels, int64_t requant, int64_t weights) const {
    const auto count = [&](size_t got, int64_t want, const char* array, const char* values) {
      if (static_cast<int64_t>(got) != want) {
        expect(
            l, false,
            fmt::format("{} count mismatch: {} {}, expected {}", array, got, values, want).c_str());
      }
    };
    expect(l, channels > 0, "empty weight slice");
    count(l.weights.size(), weights, "weight", "weights");
    if (!l.bias.empty()) count(l.bias.size(), channels, "bias", "bias values");
    count(l.multiplier.size(), requant, "requantization", "multipliers");
    count(l.shift.size(), requant, "requantization", "shifts");
  }

  void check_layer(const QLayer& l) const {
    expect(l, kernels::valid_op_type(static_cast<uint32_t>(l.op)), "unknown operator");
    expect(l, valid_tensor(l.output), "output index out of range");
    for (int t : l.inputs) expect(l, valid_tensor(t), "input index out of range");
    const kernels::OpRegistration& record = l.record();
    // A Concat has one parameter block per input.
    expect(l, !record.variadic_inputs || l.concat.size() == l.inputs.size(),
           "wrong number of concat parameter blocks");
    std::vector<core::TensorShape3> inputs;
    for (int t : l.inputs) inputs.push_back(shape(t));
    const char* problem = kernels::check_op_layer(
        l.view(),
        kernels::OpShapes{inputs.data(), static_cast<int32_t>(inputs.size()), shape(l.output)});
    expect(l, problem == nullptr, problem);
    if (const kernels::ChannelConstants* constants = record.channel_constants) {
      const kernels::ChannelRange slice = constants->slice(l);
      const int64_t channels = slice.c1 - slice.c0;
      const kernels::ConstantCounts n = constants->counts(l);
      expect(l, n.ok, "parameters do not size the constants");
      check_arrays(l, channels, n.requant, n.weights);
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
