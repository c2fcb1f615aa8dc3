// A TFLite model being written: tensors, constant buffers, operator codes and
// operators as plain values, turned into the flatbuffer at the end (so the
// exporter never builds a nested table out of order). Every QGraph tensor
// has its TFLite tensor from the start; constants and the padded
// intermediates of PAD operators are added as the layers need them.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "quant/qgraph.h"
#include "tflite/tflite_schema_generated.h"

namespace mcusplit::tflite {

struct ExportTensor {
  std::vector<int32_t> shape;
  fb::TensorType type = fb::TensorType::INT8;
  uint32_t buffer = 0;  // 0: an activation (buffer 0 is the empty sentinel)
  std::string name;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
};

using OptionsWriter = std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>;

class ExportModel {
 public:
  explicit ExportModel(const quant::QGraph& graph);

  const quant::QGraph& graph() const { return graph_; }
  // The TFLite tensor of QGraph tensor q, and its shape as written.
  int32_t tensor_of(int q) const { return q; }
  const std::vector<int32_t>& shape_of(int q) const {
    return tensors_[static_cast<size_t>(q)].shape;
  }

  // A new activation tensor (PAD's output); returns its index.
  int32_t add_activation(ExportTensor t);
  // A constant with its bytes (little-endian) in a new buffer.
  template <class T>
  int32_t add_constant(ExportTensor t, const std::vector<T>& values) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return add_constant_bytes(std::move(t), std::move(bytes));
  }

  void add_operator(int32_t builtin_code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                    fb::BuiltinOptions options_type, OptionsWriter options);

  // The flatbuffer: schema version 3, identifier "TFL3", one subgraph.
  std::string serialize() const;

 private:
  struct Op {
    uint32_t opcode_index = 0;
    std::vector<int32_t> inputs;
    std::vector<int32_t> outputs;
    fb::BuiltinOptions options_type = fb::BuiltinOptions::NONE;
    OptionsWriter options;
  };
  int32_t add_constant_bytes(ExportTensor t, std::vector<uint8_t> bytes);

  const quant::QGraph& graph_;
  std::vector<ExportTensor> tensors_;
  std::vector<std::vector<uint8_t>> buffers_{{}};  // buffer 0: the empty sentinel
  std::vector<int32_t> codes_;                     // builtin code per operator code index
  std::vector<Op> ops_;
};

}  // namespace mcusplit::tflite
