// .mq models in the CLI verbs: recognising them, their tensors in ONNX dims,
// and turning an --input file into the int8 graph input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/graph.h"
#include "model/image_input.h"
#include "quant/qgraph.h"

namespace mcusplit::cli {

// True for a path ending in ".mq": such models run on the int8 executor.
bool is_mq_path(const std::string& path);

// The ONNX-order dims of a QGraph tensor: [1, C, H, W], or [1, N] for a
// {N, 1, 1} vector (a fully connected output).
model::Dims onnx_dims(const core::TensorShape3& shape);

// Reads a TensorProto or an image for the graph input (float, NCHW) and
// quantizes it. Throws mcusplit::Error if its size does not fit the input.
std::vector<int8_t> load_int8_input(const quant::QGraph& graph, const std::string& file,
                                    const model::ImagePreprocessing& preprocessing);

}  // namespace mcusplit::cli
