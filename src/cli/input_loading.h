// Turning --input files into graph input tensors.
#pragma once

#include <string>
#include <vector>

#include "model/float_tensor.h"
#include "model/graph.h"
#include "model/image_input.h"

namespace mcusplit::cli {

// One file per graph input, in order: a TensorProto (.pb) or an image.
// Throws mcusplit::Error on a count mismatch or an unreadable file.
std::vector<model::FloatTensor> load_inputs(const model::Graph& graph,
                                            const std::vector<std::string>& files,
                                            const model::ImagePreprocessing& preprocessing);

}  // namespace mcusplit::cli
