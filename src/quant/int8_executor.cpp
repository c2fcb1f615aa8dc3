#include "quant/int8_executor.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/error.h"
#include "quant/qgraph_validate.h"

namespace mcusplit::quant {
namespace {

using core::full_box;

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
  // Kernel scratch lives in the arena at 4-byte aligned offsets.
  if (reinterpret_cast<uintptr_t>(arena) % 4 != 0) {
    throw Error("the int8 executor's arena must start 4-byte aligned");
  }
  if (arena == nullptr || arena_capacity < plan_.arena_bytes()) {
    throw Error("the int8 executor needs an arena of " + std::to_string(plan_.arena_bytes()) +
                " bytes, got " + std::to_string(arena == nullptr ? 0 : arena_capacity));
  }
  bind_layers();
}

void Int8Executor::bind_layers() {
  validate_qgraph(graph_, "int8 executor");
  bound_.clear();
  bound_.reserve(graph_.layers.size());
  for (const QLayer& l : graph_.layers) {
    kernels::OpParams p = l;
    if (const kernels::ChannelConstants* constants = l.record().channel_constants) {
      // The executor runs whole layers: the constants must hold every channel.
      const kernels::ChannelRange slice = constants->slice(p);
      if (slice.c0 != 0 || slice.c1 != constants->channels(p)) {
        throw Error("int8 layer '" + l.name + "' (" + op_type_name(l.op) +
                    ") holds only channels " + std::to_string(slice.c0) + " to " +
                    std::to_string(slice.c1) + " of its weights");
      }
      constants->bind(
          p, kernels::ConstantArrays{l.weights.data(), l.bias.empty() ? nullptr : l.bias.data(),
                                     l.multiplier.data(), l.shift.data()});
    }
    bound_.push_back(p);
    input_tiles_.reserve(std::max(input_tiles_.capacity(), l.inputs.size()));
  }
  // The arena plan sized each layer's scratch from the unbound layer; the
  // bound kernel must state no more.
  for (size_t i = 0; i < graph_.layers.size(); ++i) {
    const QLayer& l = graph_.layers[i];
    kernels::OpLayer layer = l.view();
    layer.params = &bound_[i];
    const int32_t need = l.record().scratch_bytes(
        layer, full_box(graph_.tensors[static_cast<size_t>(l.output)].shape));
    if (need > plan_.scratch_bytes(static_cast<int>(i))) {
      throw Error("int8 layer '" + l.name + "' needs " + std::to_string(need) +
                  " bytes of kernel scratch, its arena plan has " +
                  std::to_string(plan_.scratch_bytes(static_cast<int>(i))));
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
  const kernels::OpRegistration& record = l.record();
  if (record.output_aliases_input) return;  // same bytes, same offset (arena_plan.h)

  std::vector<kernels::InputTile>& inputs = input_tiles_;
  inputs.clear();
  for (const int t : l.inputs) {
    inputs.push_back(
        kernels::InputTile{tensor_data(t), full_box(graph_.tensors[static_cast<size_t>(t)].shape)});
  }
  const QTensor& out_tensor = graph_.tensors[static_cast<size_t>(l.output)];
  int8_t* out_data = tensor_data(l.output);
  note_written(out_data, out_tensor.bytes());
  kernels::OpLayer layer = l.view();
  layer.params = &bound_[index];
  const int layer_index = static_cast<int>(index);
  const kernels::Scratch scratch{arena_ + plan_.scratch_offset(layer_index),
                                 static_cast<int32_t>(plan_.scratch_bytes(layer_index))};
  note_written(scratch.data, scratch.bytes);
  const kernels::KernelStatus status = record.invoke(
      layer, inputs.data(), kernels::OutputTile{out_data, full_box(out_tensor.shape)}, scratch);
  if (status != kernels::KernelStatus::Ok) {
    throw Error("int8 layer '" + l.name + "' (" + op_type_name(l.op) +
                ") failed: " + status_name(status));
  }
}

}  // namespace mcusplit::quant
