// Importing an int8 TensorFlow Lite model (TFLM's format) straight into the
// int8 graph IR, keeping the file's quantization exactly: activation scales
// and zero points, per-channel or per-tensor int8 weights and int32 biases as
// they are, requantization multipliers derived from the scales as TFLM does.
// No float graph and no re-quantization in between.
#pragma once

#include <string>
#include <vector>

#include "quant/qgraph.h"

namespace mcusplit::tflite {

// True for a path ending in ".tflite".
bool is_tflite_path(const std::string& path);

// The builtin operators the importer converts, by TFLite name.
std::vector<std::string> supported_operators();

// Converts a model's bytes; `origin` names the file in errors. Throws
// mcusplit::Error (exit code 2) with one line naming the problem: the
// reader's (tflite_model.h), an unsupported operator (its name, index and
// the supported list), a tensor that is not int8 (naming the type found),
// parameters the kernels cannot run as TFLM does.
quant::QGraph import_tflite(const std::string& bytes, const std::string& origin);
quant::QGraph read_tflite_file(const std::string& path);

}  // namespace mcusplit::tflite
