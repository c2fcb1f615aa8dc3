// ONNX TensorProto files (.pb), the format of the ONNX backend test data.
#pragma once

#include <string>

#include "model/float_tensor.h"

namespace mcusplit::model {

// Reads a float (or integer, converted) TensorProto. Throws mcusplit::Error.
FloatTensor read_tensor_file(const std::string& path);
// Writes a float TensorProto named `name`; writes a temporary file and
// renames it, so an existing file is never left half-written.
void write_tensor_file(const std::string& path, const std::string& name, const FloatTensor& t);

}  // namespace mcusplit::model
