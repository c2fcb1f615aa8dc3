// Writes an onnx::ModelProto to disk.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace mcusplit::model {

// Serializes `model` to `path` atomically: the bytes go to a temporary file in
// the same directory, which is then renamed over `path`, so a reader never sees
// a half-written model. Throws mcusplit::Error on failure.
void write_onnx_file(const onnx::ModelProto& model, const std::string& path);

}  // namespace mcusplit::model
