// A TensorFlow Lite flatbuffer opened for reading: its bytes verified with
// flatbuffers' Verifier, and the structure the importer relies on checked
// once (one subgraph, every buffer, tensor and operator code index in range,
// every constant's buffer the size its shape and type say), so the importer
// can index freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tflite/tflite_schema_generated.h"

namespace mcusplit::tflite {

// The public schema's version this reader implements.
inline constexpr uint32_t kTfliteSchemaVersion = 3;

class TfliteModel {
 public:
  // Takes the file's bytes; `origin` names the file in errors. Throws
  // mcusplit::Error (exit code 2) naming the problem: not a flatbuffer with
  // the "TFL3" identifier, a buffer that does not verify (truncated, random
  // bytes), another schema version, not exactly one subgraph, an index out
  // of range, a constant whose buffer disagrees with its shape.
  TfliteModel(std::string bytes, std::string origin);

  const fb::Model& model() const { return *model_; }
  const fb::SubGraph& graph() const { return *graph_; }
  const std::string& origin() const { return origin_; }

  int32_t tensor_count() const;
  const fb::Tensor& tensor(int32_t index) const;
  // The tensor's name, or "#index" for an unnamed one.
  std::string tensor_name(int32_t index) const;
  // The constant data of a tensor: empty for an activation (buffer 0 or an
  // empty buffer).
  const flatbuffers::Vector<uint8_t>* constant_data(int32_t index) const;
  bool is_constant(int32_t index) const { return constant_data(index) != nullptr; }
  // The builtin operator code of an operator (TFLite's rule: the larger of
  // the deprecated byte code and the int32 one).
  int32_t builtin_code(const fb::Operator& op) const;

 private:
  void check_structure();
  std::string bytes_;
  std::string origin_;
  const fb::Model* model_ = nullptr;
  const fb::SubGraph* graph_ = nullptr;
};

// Bytes of one element of a tensor type; 0 for types without a fixed size.
int32_t tensor_type_bytes(fb::TensorType type);
// "INT8", "FLOAT32", ...
const char* tensor_type_name(fb::TensorType type);
// "[1, 96, 96, 1]".
std::string shape_string(const flatbuffers::Vector<int32_t>* shape);

}  // namespace mcusplit::tflite
