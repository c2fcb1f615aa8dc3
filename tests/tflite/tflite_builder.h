// Small TFLite flatbuffers for tests, written with the builders flatc
// generates from src/tflite/tflite_schema.fbs: tensors, buffers and
// operators as plain structs a test can change before serialising.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "tflite/tflite_operators.h"
#include "tflite/tflite_schema_generated.h"

namespace mcusplit::tflite::testing {

struct TestTensor {
  std::vector<int32_t> shape;
  fb::TensorType type = fb::TensorType::INT8;
  uint32_t buffer = 0;  // 0: an activation
  std::string name;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
};

using OptionsWriter = std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>;

struct TestOp {
  int32_t code = kConv2D;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  fb::BuiltinOptions options_type = fb::BuiltinOptions::NONE;
  OptionsWriter options;
};

struct TestModel {
  std::vector<TestTensor> tensors;
  std::vector<std::vector<uint8_t>> buffers{{}};  // buffer 0: the empty sentinel
  std::vector<TestOp> ops;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  uint32_t version = 3;

  // A constant's bytes as a new buffer; returns its index.
  template <class T>
  uint32_t add_buffer(const std::vector<T>& values) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    buffers.push_back(bytes);
    return static_cast<uint32_t>(buffers.size() - 1);
  }
  int32_t add_tensor(TestTensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int32_t>(tensors.size() - 1);
  }

  std::string serialize() const {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<fb::Buffer>> bufs;
    for (const auto& data : buffers) {
      bufs.push_back(data.empty() ? fb::CreateBuffer(b)
                                  : fb::CreateBuffer(b, b.CreateVector(data)));
    }
    std::vector<flatbuffers::Offset<fb::Tensor>> ts;
    for (const TestTensor& t : tensors) {
      const auto q = fb::CreateQuantizationParameters(
          b, 0, 0, t.scale.empty() ? 0 : b.CreateVector(t.scale),
          t.zero_point.empty() ? 0 : b.CreateVector(t.zero_point), t.quantized_dimension);
      ts.push_back(fb::CreateTensor(b, b.CreateVector(t.shape), t.type, t.buffer,
                                    b.CreateString(t.name), q));
    }
    std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
    std::vector<flatbuffers::Offset<fb::Operator>> written_ops;
    for (size_t i = 0; i < ops.size(); ++i) {
      const TestOp& op = ops[i];
      codes.push_back(fb::CreateOperatorCode(b, static_cast<int8_t>(op.code < 127 ? op.code : 127),
                                             0, 1, op.code));
      const auto options = op.options ? op.options(b) : flatbuffers::Offset<void>();
      written_ops.push_back(
          fb::CreateOperator(b, static_cast<uint32_t>(i), b.CreateVector(op.inputs),
                             b.CreateVector(op.outputs), op.options_type, options));
    }
    const auto graph =
        fb::CreateSubGraph(b, b.CreateVector(ts), b.CreateVector(inputs), b.CreateVector(outputs),
                           b.CreateVector(written_ops), b.CreateString("main"));
    const std::vector<flatbuffers::Offset<fb::SubGraph>> graphs{graph};
    const auto model = fb::CreateModel(b, version, b.CreateVector(codes), b.CreateVector(graphs),
                                       b.CreateString("test"), b.CreateVector(bufs));
    fb::FinishModelBuffer(b, model);
    return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  }
};

inline OptionsWriter conv_options(fb::Padding padding, int32_t stride,
                                  fb::ActivationFunctionType act) {
  return [=](flatbuffers::FlatBufferBuilder& b) {
    return fb::CreateConv2DOptions(b, padding, stride, stride, act).Union();
  };
}

inline OptionsWriter depthwise_options(fb::Padding padding, int32_t stride,
                                       fb::ActivationFunctionType act) {
  return [=](flatbuffers::FlatBufferBuilder& b) {
    return fb::CreateDepthwiseConv2DOptions(b, padding, stride, stride, 1, act).Union();
  };
}

inline OptionsWriter pool_options(fb::Padding padding, int32_t stride, int32_t filter) {
  return [=](flatbuffers::FlatBufferBuilder& b) {
    return fb::CreatePool2DOptions(b, padding, stride, stride, filter, filter).Union();
  };
}

inline OptionsWriter fully_connected_options(fb::ActivationFunctionType act) {
  return [=](flatbuffers::FlatBufferBuilder& b) {
    return fb::CreateFullyConnectedOptions(b, act).Union();
  };
}

inline OptionsWriter add_options(fb::ActivationFunctionType act) {
  return [=](flatbuffers::FlatBufferBuilder& b) { return fb::CreateAddOptions(b, act).Union(); };
}

inline OptionsWriter concatenation_options(int32_t axis) {
  return [=](flatbuffers::FlatBufferBuilder& b) {
    return fb::CreateConcatenationOptions(b, axis).Union();
  };
}

inline OptionsWriter reducer_options(bool keep_dims) {
  return [=](flatbuffers::FlatBufferBuilder& b) {
    return fb::CreateReducerOptions(b, keep_dims).Union();
  };
}

// An operator with its options (NONE: without).
inline TestOp make_op(int32_t code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                      fb::BuiltinOptions type = fb::BuiltinOptions::NONE,
                      OptionsWriter options = nullptr) {
  TestOp op;
  op.code = code;
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.options_type = type;
  op.options = std::move(options);
  return op;
}

}  // namespace mcusplit::tflite::testing
