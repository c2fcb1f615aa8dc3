// Exporting the int8 graph IR as a TensorFlow Lite flatbuffer (schema
// version 3, file identifier "TFL3") that TFLM runs with the bits mcusplit
// computes: every layer becomes the TFLite operator whose int8 arithmetic,
// derived by TFLM from the written scales and zero points, is the layer's
// own. A layer no TFLite operator computes exactly is refused, naming it.
#pragma once

#include <string>

#include "quant/qgraph.h"

namespace mcusplit::tflite {

// The model's flatbuffer bytes. Throws mcusplit::Error (exit code 2)
// "cannot export layer '<name>' (<Op>): <why>" for a layer TFLite cannot
// express bit for bit.
std::string export_tflite(const quant::QGraph& graph);

// export_tflite written to `path` atomically: on failure no file (nor part of
// one) is left there.
void write_tflite_file(const quant::QGraph& graph, const std::string& path);

}  // namespace mcusplit::tflite
