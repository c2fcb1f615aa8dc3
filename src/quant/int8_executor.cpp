#include "quant/int8_executor.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "kernels/int8_conv_dispatch.h"

namespace mcusplit::quant {
namespace {

using core::full_box;
using core::TensorShape3;

std::string shape_string(const TensorShape3& s) {
  return "{c " + std::to_string(s.c) + ", h " + std::to_string(s.h) + ", w " + std::to_string(s.w) +
         "}";
}

const char* status_name(kernels::KernelStatus s) {
  switch (s) {
    case kernels::KernelStatus::Ok:
      return "ok";
    case kernels::KernelStatus::InputBoxTooSmall:
      return "input box too small";
    case kernels::KernelStatus::BadParams:
      return "bad parameters";
  }
  return "unknown status";
}

// Structural checks the kernels cannot make themselves (vector sizes, shapes
// agreeing with the graph's tensors), so run() fails only on kernel status.
class LayerChecker {
 public:
  LayerChecker(const QGraph& g, const QLayer& l) : g_(g), l_(l) {}

  void check() const {
    switch (l_.op) {
      case QOpType::Conv:
        return check_conv();
      case QOpType::FullyConnected:
        return check_fc();
      case QOpType::Add:
        expect_inputs(2);
        expect_shape("input 1", input_shape(0), l_.add.shape);
        expect_shape("input 2", input_shape(1), l_.add.shape);
        return expect_shape("output", output_shape(), l_.add.shape);
      case QOpType::MaxPool:
      case QOpType::AveragePool:
        expect_inputs(1);
        expect_shape("input", input_shape(0), l_.pool.input);
        return expect_shape("output", output_shape(), l_.pool.output);
      case QOpType::GlobalAveragePool:
        expect_inputs(1);
        expect_shape("input", input_shape(0), l_.global_pool.input);
        return expect_shape("output", output_shape(), TensorShape3{l_.global_pool.input.c, 1, 1});
      case QOpType::Concat:
        if (l_.concat.size() != l_.inputs.size()) {
          fail("has " + std::to_string(l_.inputs.size()) + " inputs but " +
               std::to_string(l_.concat.size()) + " concat parameter blocks");
        }
        {
          // The inputs must tile the output: every output byte written once
          // (the kernel checks each input lands inside the output).
          int64_t volume = 0;
          for (size_t i = 0; i < l_.inputs.size(); ++i) {
            expect_shape("input " + std::to_string(i + 1), input_shape(i), l_.concat[i].input);
            expect_shape("output", output_shape(), l_.concat[i].output);
            volume += input_shape(i).volume();
          }
          if (volume != output_shape().volume()) {
            fail("has inputs of " + std::to_string(volume) + " values for an output of " +
                 std::to_string(output_shape().volume()));
          }
        }
        return;
      case QOpType::Reshape:
        return expect_inputs(1);
    }
    fail("has an unknown operator");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("int8 layer '" + l_.name + "' (" + qop_type_name(l_.op) + ") " + what);
  }
  void expect_inputs(size_t n) const {
    if (l_.inputs.size() != n) {
      fail("has " + std::to_string(l_.inputs.size()) + " inputs, expected " + std::to_string(n));
    }
  }
  TensorShape3 input_shape(size_t i) const {
    return g_.tensors[static_cast<size_t>(l_.inputs[i])].shape;
  }
  TensorShape3 output_shape() const { return g_.tensors[static_cast<size_t>(l_.output)].shape; }
  void expect_shape(const std::string& what, const TensorShape3& tensor,
                    const TensorShape3& params) const {
    if (!(tensor == params)) {
      fail(what + " tensor is " + shape_string(tensor) + " but its parameters say " +
           shape_string(params));
    }
  }
  void expect_size(const std::string& what, size_t got, int64_t want) const {
    if (static_cast<int64_t>(got) != want) {
      fail("has " + std::to_string(got) + " " + what + ", expected " + std::to_string(want));
    }
  }
  void expect_channel_arrays(int64_t n, bool per_tensor) const {
    const int64_t requant = per_tensor ? 1 : n;
    expect_size("requantization multipliers", l_.multiplier.size(), requant);
    expect_size("requantization shifts", l_.shift.size(), requant);
    if (!l_.bias.empty()) expect_size("bias values", l_.bias.size(), n);
  }

  void check_conv() const {
    expect_inputs(1);
    const auto& p = l_.conv;
    expect_shape("input", input_shape(0), p.input);
    expect_shape("output", output_shape(), p.output);
    if (p.groups <= 0 || p.input.c % p.groups != 0 || p.output.c % p.groups != 0) {
      fail("has " + std::to_string(p.groups) + " groups for " + std::to_string(p.input.c) +
           " input and " + std::to_string(p.output.c) + " output channels");
    }
    expect_size("weights", l_.weights.size(),
                int64_t{p.output.c} * p.kernel_h * p.kernel_w * (p.input.c / p.groups));
    expect_channel_arrays(p.output.c, false);
  }

  void check_fc() const {
    expect_inputs(1);
    const auto& p = l_.fc;
    expect_size("input values",
                static_cast<size_t>(g_.tensors[static_cast<size_t>(l_.inputs[0])].bytes()),
                p.input_size);
    expect_size("output values",
                static_cast<size_t>(g_.tensors[static_cast<size_t>(l_.output)].bytes()),
                p.output_size);
    expect_size("weights", l_.weights.size(), int64_t{p.input_size} * p.output_size);
    expect_channel_arrays(p.output_size, p.per_tensor_requant);
  }

  const QGraph& g_;
  const QLayer& l_;
};

}  // namespace

Int8Executor::Int8Executor(const QGraph& graph) : graph_(graph), plan_(plan_arena(graph)) {
  // The one allocation of the arena, exactly the planned size.
  owned_arena_.assign(static_cast<size_t>(plan_.arena_bytes()), 0);
  arena_ = owned_arena_.data();
  arena_capacity_ = plan_.arena_bytes();
  bind_layers();
}

Int8Executor::Int8Executor(const QGraph& graph, int8_t* arena, int64_t arena_capacity)
    : graph_(graph), plan_(plan_arena(graph)), arena_(arena), arena_capacity_(arena_capacity) {
  if (arena == nullptr || arena_capacity < plan_.arena_bytes()) {
    throw Error("the int8 executor needs an arena of " + std::to_string(plan_.arena_bytes()) +
                " bytes, got " + std::to_string(arena == nullptr ? 0 : arena_capacity));
  }
  bind_layers();
}

void Int8Executor::bind_layers() {
  bound_.clear();
  bound_.reserve(graph_.layers.size());
  for (const QLayer& l : graph_.layers) {
    LayerChecker(graph_, l).check();
    if (l.op == QOpType::Conv) {
      kernels::Int8ConvParams p = l.conv;
      p.weights = l.weights.data();
      p.bias = l.bias.empty() ? nullptr : l.bias.data();
      p.requant = {l.multiplier.data(), l.shift.data()};
      p.weights_c0 = 0;  // the layer holds every output channel
      p.weights_c1 = p.output.c;
      bound_.emplace_back(p);
    } else if (l.op == QOpType::FullyConnected) {
      kernels::Int8FullyConnectedParams p = l.fc;
      p.weights = l.weights.data();
      p.bias = l.bias.empty() ? nullptr : l.bias.data();
      p.requant = {l.multiplier.data(), l.shift.data()};
      p.weights_n0 = 0;
      p.weights_n1 = p.output_size;
      bound_.emplace_back(p);
    } else {
      bound_.emplace_back(std::monostate{});
    }
  }
}

int8_t* Int8Executor::tensor_data(int tensor) {
  return arena_ + plan_.tensor_offset(tensor);
}

void Int8Executor::note_written(const int8_t* begin, int64_t bytes) {
  const int64_t end = (begin - arena_) + bytes;
  if (begin < arena_ || end > arena_capacity_) {
    throw Error("int8 executor: a write of " + std::to_string(bytes) +
                " bytes falls outside the arena");
  }
  high_water_ = std::max(high_water_, end);
}

void Int8Executor::run(const int8_t* input, int8_t* output) {
  high_water_ = 0;
  const QTensor& in = graph_.tensors[static_cast<size_t>(graph_.input)];
  int8_t* in_data = tensor_data(graph_.input);
  std::memcpy(in_data, input, static_cast<size_t>(in.bytes()));
  note_written(in_data, in.bytes());
  for (size_t i = 0; i < graph_.layers.size(); ++i) run_layer(i);
  const QTensor& out = graph_.tensors[static_cast<size_t>(graph_.output)];
  std::memcpy(output, tensor_data(graph_.output), static_cast<size_t>(out.bytes()));
}

std::vector<int8_t> Int8Executor::run(const std::vector<int8_t>& input_nhwc) {
  const QTensor& in = graph_.tensors[static_cast<size_t>(graph_.input)];
  if (static_cast<int64_t>(input_nhwc.size()) != in.bytes()) {
    throw Error("the int8 input '" + in.name + "' takes " + std::to_string(in.bytes()) +
                " values, got " + std::to_string(input_nhwc.size()));
  }
  std::vector<int8_t> out(
      static_cast<size_t>(graph_.tensors[static_cast<size_t>(graph_.output)].bytes()));
  run(input_nhwc.data(), out.data());
  return out;
}

std::vector<float> Int8Executor::run_float(const std::vector<float>& input_nchw) {
  const QTensor& in = graph_.tensors[static_cast<size_t>(graph_.input)];
  if (static_cast<int64_t>(input_nchw.size()) != in.bytes()) {
    throw Error("the input '" + in.name + "' takes " + std::to_string(in.bytes()) +
                " values, got " + std::to_string(input_nchw.size()));
  }
  return dequantize_output(graph_, run(quantize_input(graph_, input_nchw)));
}

void Int8Executor::run_layer(size_t index) {
  const QLayer& l = graph_.layers[index];
  const QTensor& out_tensor = graph_.tensors[static_cast<size_t>(l.output)];
  auto input_tile = [&](size_t i) {
    const int t = l.inputs[i];
    return kernels::InputTile{tensor_data(t),
                              full_box(graph_.tensors[static_cast<size_t>(t)].shape)};
  };
  if (l.op == QOpType::Reshape) return;  // aliases its input (arena_plan.h)

  int8_t* out_data = tensor_data(l.output);
  const kernels::OutputTile out{out_data, full_box(out_tensor.shape)};
  note_written(out_data, out_tensor.bytes());
  kernels::KernelStatus status = kernels::KernelStatus::Ok;
  switch (l.op) {
    case QOpType::Conv:
      status = kernels::int8_conv_dispatch(std::get<kernels::Int8ConvParams>(bound_[index]),
                                           input_tile(0), out);
      break;
    case QOpType::FullyConnected: {
      const auto& p = std::get<kernels::Int8FullyConnectedParams>(bound_[index]);
      status = kernels::int8_fully_connected(p, input_tile(0).data, 0, p.output_size, out_data);
      break;
    }
    case QOpType::Add:
      status = kernels::int8_add(l.add, input_tile(0), input_tile(1), out);
      break;
    case QOpType::MaxPool:
      status = kernels::int8_max_pool(l.pool, input_tile(0), out);
      break;
    case QOpType::AveragePool:
      status = kernels::int8_average_pool(l.pool, input_tile(0), out);
      break;
    case QOpType::GlobalAveragePool:
      status = kernels::int8_global_average_pool(l.global_pool, input_tile(0), out);
      break;
    case QOpType::Concat:
      for (size_t i = 0; i < l.inputs.size() && status == kernels::KernelStatus::Ok; ++i) {
        const kernels::InputTile in = input_tile(i);
        status = kernels::int8_concat(l.concat[i], in, in.box, out);
      }
      break;
    case QOpType::Reshape:
      break;
  }
  if (status != kernels::KernelStatus::Ok) {
    throw Error("int8 layer '" + l.name + "' (" + qop_type_name(l.op) +
                ") failed: " + status_name(status));
  }
}

}  // namespace mcusplit::quant
