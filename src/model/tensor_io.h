// ONNX TensorProto files (.pb), the format of the ONNX backend test data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/float_tensor.h"

namespace mcusplit::model {

// Reads a float (or integer, converted) TensorProto. Throws mcusplit::Error.
FloatTensor read_tensor_file(const std::string& path);
// True if the TensorProto file holds INT8 values (which read_tensor_file
// gives as exact floats). Throws mcusplit::Error like read_tensor_file.
bool tensor_file_is_int8(const std::string& path);
// Writes a float TensorProto named `name`; writes a temporary file and
// renames it, so an existing file is never left half-written.
void write_tensor_file(const std::string& path, const std::string& name, const FloatTensor& t);
// Writes an INT8 TensorProto (raw_data, one byte per value, row-major in the
// order of `shape`), the same atomic way.
void write_int8_tensor_file(const std::string& path, const std::string& name, const Dims& shape,
                            const std::vector<int8_t>& data);

}  // namespace mcusplit::model
