// Conversion between onnx::TensorProto and FloatTensor, shared by the
// importer (initializers, Constant nodes) and the .pb tensor files.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "model/float_tensor.h"

namespace mcusplit::model {

// Values of a TensorProto as floats. Integer, double, bool and float16 data
// are converted (shape tensors are int64). `what` names the tensor in errors,
// e.g. "initializer 'conv1.weight'". Throws mcusplit::Error on external data,
// unsupported element types, negative dims or a value count that does not
// match the dims.
FloatTensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what);

// A float TensorProto named `name` with little-endian raw_data.
onnx::TensorProto tensor_to_proto(const FloatTensor& tensor, const std::string& name);

// "FLOAT", "INT64", ... for messages.
std::string onnx_data_type_name(int data_type);

}  // namespace mcusplit::model
