#include "tflite/export_model.h"

#include <algorithm>

#include "tflite/tflite_model.h"
#include "tflite/tflite_operators.h"

namespace mcusplit::tflite {

namespace {

// The operator versions TFLite's converter gives the int8 forms written here
// (TFLM does not check them; interpreters use them to pick a kernel).
int32_t operator_version(int32_t code) {
  switch (code) {
    case kConv2D:
    case kDepthwiseConv2D:
      return 3;  // int8, per-channel weights
    case kFullyConnected:
      return 4;  // int8
    default:
      return 2;  // int8 (ADD, pools, MEAN, CONCATENATION, SOFTMAX, PAD, PADV2)
  }
}

// Layers that read or write a tensor as a feature map (NHWC).
bool spatial(quant::OpType op) {
  return op != quant::OpType::FullyConnected && op != quant::OpType::Reshape &&
         op != quant::OpType::Softmax;
}

// A {N, 1, 1} tensor is written as the vector [1, N] (as TFLite's converter
// writes fully connected inputs and outputs) when no layer around it treats
// it as a feature map; every other tensor as [1, H, W, C].
std::vector<bool> vector_tensors(const quant::QGraph& g) {
  std::vector<bool> vec(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const core::TensorShape3& s = g.tensors[t].shape;
    vec[t] = s.h == 1 && s.w == 1;
  }
  for (const quant::QLayer& l : g.layers) {
    if (!spatial(l.op)) continue;
    vec[static_cast<size_t>(l.output)] = false;
    for (const int in : l.inputs) vec[static_cast<size_t>(in)] = false;
  }
  return vec;
}

}  // namespace

ExportModel::ExportModel(const quant::QGraph& graph) : graph_(graph) {
  const std::vector<bool> vec = vector_tensors(graph);
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    const quant::QTensor& q = graph.tensors[t];
    ExportTensor e;
    e.shape = vec[t] ? std::vector<int32_t>{1, q.shape.c}
                     : std::vector<int32_t>{1, q.shape.h, q.shape.w, q.shape.c};
    e.name = q.name;
    e.scale = {q.quant.scale};
    e.zero_point = {q.quant.zero_point};
    tensors_.push_back(std::move(e));
  }
}

int32_t ExportModel::add_activation(ExportTensor t) {
  t.buffer = 0;
  tensors_.push_back(std::move(t));
  return static_cast<int32_t>(tensors_.size() - 1);
}

int32_t ExportModel::add_constant_bytes(ExportTensor t, std::vector<uint8_t> bytes) {
  buffers_.push_back(std::move(bytes));
  t.buffer = static_cast<uint32_t>(buffers_.size() - 1);
  tensors_.push_back(std::move(t));
  return static_cast<int32_t>(tensors_.size() - 1);
}

void ExportModel::add_operator(int32_t builtin_code, std::vector<int32_t> inputs,
                               std::vector<int32_t> outputs, fb::BuiltinOptions options_type,
                               OptionsWriter options) {
  auto found = std::find(codes_.begin(), codes_.end(), builtin_code);
  if (found == codes_.end()) found = codes_.insert(codes_.end(), builtin_code);
  Op op;
  op.opcode_index = static_cast<uint32_t>(found - codes_.begin());
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.options_type = options_type;
  op.options = std::move(options);
  ops_.push_back(std::move(op));
}

std::string ExportModel::serialize() const {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  for (const std::vector<uint8_t>& data : buffers_) {
    buffers.push_back(data.empty() ? fb::CreateBuffer(b) : fb::CreateBufferDirect(b, &data));
  }
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const ExportTensor& t : tensors_) {
    // Tensors without scales (shapes, axes, paddings) have no quantization table.
    const auto quant =
        t.scale.empty() ? 0
                        : fb::CreateQuantizationParametersDirect(
                              b, nullptr, nullptr, &t.scale, &t.zero_point, t.quantized_dimension);
    // The name as it is, NUL bytes included (a C string would cut it there).
    const auto shape = b.CreateVector(t.shape);
    const auto name = b.CreateString(t.name);
    tensors.push_back(fb::CreateTensor(b, shape, t.type, t.buffer, name, quant));
  }
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  for (const Op& op : ops_) {
    const flatbuffers::Offset<void> options = op.options ? op.options(b) : 0;
    ops.push_back(fb::CreateOperatorDirect(b, op.opcode_index, &op.inputs, &op.outputs,
                                           op.options_type, options));
  }
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
  for (const int32_t code : codes_) {
    // Both fields, as current TFLite writers do: the byte for readers older
    // than the int32 field (127 = "look at builtin_code" past its range).
    const auto deprecated = static_cast<int8_t>(std::min(code, 127));
    codes.push_back(fb::CreateOperatorCode(b, deprecated, 0, operator_version(code), code));
  }
  const std::vector<int32_t> inputs{graph_.input};
  const std::vector<int32_t> outputs{graph_.output};
  const auto subgraph = fb::CreateSubGraphDirect(b, &tensors, &inputs, &outputs, &ops, "main");
  const std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs{subgraph};
  const std::string description =
      "mcusplit export" + (graph_.source_model.empty() ? "" : " of " + graph_.source_model);
  const auto model = fb::CreateModelDirect(b, kTfliteSchemaVersion, &codes, &subgraphs,
                                           description.c_str(), &buffers);
  fb::FinishModelBuffer(b, model);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

}  // namespace mcusplit::tflite
