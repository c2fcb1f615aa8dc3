// int8 models in the CLI verbs: .mq files and int8 TensorFlow Lite files,
// recognising and reading them, their tensors in ONNX dims, and turning an
// --input file into the int8 graph input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/graph.h"
#include "model/image_input.h"
#include "quant/qgraph.h"

namespace mcusplit::cli {

// True for a path ending in ".mq".
bool is_mq_path(const std::string& path);
// True for a model the int8 executor runs: ".mq" or ".tflite".
bool is_int8_model_path(const std::string& path);
// Reads a .mq, or imports a .tflite (tflite/tflite_import.h). Throws
// mcusplit::Error.
quant::QGraph read_int8_model(const std::string& path);

// The ONNX-order dims of a QGraph tensor: [1, C, H, W], or [1, N] for a
// {N, 1, 1} vector (a fully connected output).
model::Dims onnx_dims(const core::TensorShape3& shape);

// The int8 graph input from an --input file:
// - an INT8 TensorProto is the quantized input as it is (NHWC [1, H, W, C],
//   as TFLite feeds it, or NCHW [1, C, H, W], reordered);
// - a float TensorProto (NCHW, or NHWC for a .tflite model) or an image is
//   quantized with the input tensor's own scale and zero point.
// Throws mcusplit::Error if its size does not fit the input.
std::vector<int8_t> load_int8_input(const quant::QGraph& graph, const std::string& file,
                                    const model::ImagePreprocessing& preprocessing);

}  // namespace mcusplit::cli
