#include "tflite/tflite_model.h"

#include <algorithm>
#include <cstdint>

#include <fmt/core.h>

#include "common/error.h"

namespace mcusplit::tflite {

namespace {

constexpr const char* kIdentifier = "TFL3";

[[noreturn]] void fail(const std::string& origin, const std::string& problem) {
  throw Error(fmt::format("'{}': {}", origin, problem));
}

// The file identifier's 4 bytes as text, non-printable bytes as '?'.
std::string identifier_text(const std::string& bytes) {
  std::string id = bytes.substr(4, 4);
  for (char& c : id) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return id;
}

int64_t element_count(const flatbuffers::Vector<int32_t>* shape) {
  int64_t n = 1;
  if (shape == nullptr) return n;
  for (const int32_t d : *shape) {
    // Checked before multiplying: the product of two large dims overflows.
    constexpr int64_t kLimit = int64_t{1} << 40;
    if (d < 0 || (d > 0 && n > kLimit / d)) return -1;
    n *= d;
  }
  return n;
}

}  // namespace

int32_t tensor_type_bytes(fb::TensorType type) {
  switch (type) {
    case fb::TensorType::INT8:
    case fb::TensorType::UINT8:
    case fb::TensorType::BOOL:
      return 1;
    case fb::TensorType::INT16:
    case fb::TensorType::UINT16:
    case fb::TensorType::FLOAT16:
      return 2;
    case fb::TensorType::INT32:
    case fb::TensorType::UINT32:
    case fb::TensorType::FLOAT32:
      return 4;
    case fb::TensorType::INT64:
    case fb::TensorType::UINT64:
    case fb::TensorType::FLOAT64:
    case fb::TensorType::COMPLEX64:
      return 8;
    case fb::TensorType::COMPLEX128:
      return 16;
    default:
      return 0;  // strings, resources, variants, packed int4
  }
}

const char* tensor_type_name(fb::TensorType type) {
  const char* name = fb::EnumNameTensorType(type);
  return name[0] != '\0' ? name : "an unknown type";
}

std::string shape_string(const flatbuffers::Vector<int32_t>* shape) {
  std::string s = "[";
  if (shape != nullptr) {
    for (flatbuffers::uoffset_t i = 0; i < shape->size(); ++i) {
      if (i > 0) s += ", ";
      s += std::to_string(shape->Get(i));
    }
  }
  return s + "]";
}

TfliteModel::TfliteModel(std::string bytes, std::string origin)
    : bytes_(std::move(bytes)), origin_(std::move(origin)) {
  if (bytes_.size() < 8) {
    fail(origin_, "is not a TensorFlow Lite model: " + std::to_string(bytes_.size()) +
                      " bytes, too short for a flatbuffer");
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes_.data());
  if (!flatbuffers::BufferHasIdentifier(data, kIdentifier)) {
    fail(origin_, "is not a TensorFlow Lite model: file identifier '" + identifier_text(bytes_) +
                      "', expected '" + kIdentifier + "'");
  }
  flatbuffers::Verifier verifier(data, bytes_.size());
  if (!fb::VerifyModelBuffer(verifier)) {
    fail(origin_,
         "is a corrupt or truncated TensorFlow Lite model (its flatbuffer does not verify)");
  }
  model_ = fb::GetModel(data);
  check_structure();
}

void TfliteModel::check_structure() {
  const fb::Model& m = *model_;
  if (m.version() != kTfliteSchemaVersion) {
    fail(origin_, "has TFLite schema version " + std::to_string(m.version()) + ", expected " +
                      std::to_string(kTfliteSchemaVersion));
  }
  const auto* subgraphs = m.subgraphs();
  if (subgraphs == nullptr || subgraphs->size() != 1) {
    fail(origin_, "has " + std::to_string(subgraphs == nullptr ? 0 : subgraphs->size()) +
                      " subgraphs; only models with one subgraph are supported");
  }
  graph_ = subgraphs->Get(0);
  const fb::SubGraph& g = *graph_;
  const uint32_t buffer_count = m.buffers() == nullptr ? 0 : m.buffers()->size();
  const uint32_t code_count = m.operator_codes() == nullptr ? 0 : m.operator_codes()->size();
  const int32_t tensors = tensor_count();
  if (tensors == 0) fail(origin_, "has no tensors");
  for (int32_t t = 0; t < tensors; ++t) {
    const fb::Tensor& tensor = *g.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
    if (tensor.buffer() >= buffer_count) {
      fail(origin_, "tensor '" + tensor_name(t) + "' (index " + std::to_string(t) +
                        ") names buffer " + std::to_string(tensor.buffer()) +
                        " but the model has " + std::to_string(buffer_count) + " buffers");
    }
    const fb::Buffer* buffer = m.buffers()->Get(tensor.buffer());
    if (buffer != nullptr && buffer->offset() > 1) {
      fail(origin_,
           "tensor '" + tensor_name(t) +
               "' keeps its data outside the flatbuffer (a model over 2 GB); not supported");
    }
    // The verifier checks a vector's length field, not that 8-byte elements
    // are 8-byte aligned; reading misaligned int64 zero points is undefined.
    const fb::QuantizationParameters* q = tensor.quantization();
    if (q != nullptr && q->zero_point() != nullptr &&
        reinterpret_cast<uintptr_t>(q->zero_point()->data()) % alignof(int64_t) != 0) {
      fail(origin_, "tensor '" + tensor_name(t) + "' (index " + std::to_string(t) +
                        ") has misaligned zero points (a corrupt file)");
    }
    const auto* data = constant_data(t);
    if (data == nullptr) continue;
    const int64_t elements = element_count(tensor.shape());
    const int32_t element_bytes = tensor_type_bytes(tensor.type());
    if (elements < 0 || element_bytes == 0 ||
        elements * element_bytes != static_cast<int64_t>(data->size())) {
      fail(origin_, "tensor '" + tensor_name(t) + "' (index " + std::to_string(t) + ") has shape " +
                        shape_string(tensor.shape()) + " of " + tensor_type_name(tensor.type()) +
                        " but its buffer " + std::to_string(tensor.buffer()) + " holds " +
                        std::to_string(data->size()) + " bytes");
    }
  }
  const auto check_indices = [&](const flatbuffers::Vector<int32_t>* list, const std::string& what,
                                 bool optional_allowed) {
    if (list == nullptr) return;
    for (const int32_t index : *list) {
      if ((index == -1 && optional_allowed) || (index >= 0 && index < tensors)) continue;
      fail(origin_, what + " names tensor " + std::to_string(index) + " but the model has " +
                        std::to_string(tensors) + " tensors");
    }
  };
  check_indices(g.inputs(), "the subgraph's input list", false);
  check_indices(g.outputs(), "the subgraph's output list", false);
  const uint32_t op_count = g.operators() == nullptr ? 0 : g.operators()->size();
  for (uint32_t i = 0; i < op_count; ++i) {
    const fb::Operator& op = *g.operators()->Get(i);
    const std::string name = "operator " + std::to_string(i);
    if (op.opcode_index() >= code_count) {
      fail(origin_, name + " names operator code " + std::to_string(op.opcode_index()) +
                        " but the model has " + std::to_string(code_count));
    }
    check_indices(op.inputs(), name + "'s input list", true);
    check_indices(op.outputs(), name + "'s output list", false);
  }
}

int32_t TfliteModel::tensor_count() const {
  return graph_->tensors() == nullptr ? 0 : static_cast<int32_t>(graph_->tensors()->size());
}

const fb::Tensor& TfliteModel::tensor(int32_t index) const {
  return *graph_->tensors()->Get(static_cast<flatbuffers::uoffset_t>(index));
}

std::string TfliteModel::tensor_name(int32_t index) const {
  const fb::Tensor& t = tensor(index);
  if (t.name() != nullptr && t.name()->size() > 0) return t.name()->str();
  return fmt::format("#{}", index);
}

const flatbuffers::Vector<uint8_t>* TfliteModel::constant_data(int32_t index) const {
  const uint32_t buffer = tensor(index).buffer();
  if (buffer == 0) return nullptr;
  const fb::Buffer* b = model_->buffers()->Get(buffer);
  if (b == nullptr || b->data() == nullptr || b->data()->size() == 0) return nullptr;
  return b->data();
}

int32_t TfliteModel::builtin_code(const fb::Operator& op) const {
  const fb::OperatorCode& code = *model_->operator_codes()->Get(op.opcode_index());
  return std::max<int32_t>(code.deprecated_builtin_code(), code.builtin_code());
}

}  // namespace mcusplit::tflite
