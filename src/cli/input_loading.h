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

// --mean/--std (one value for every channel, or three) and --no-crop as
// image preprocessing; throws mcusplit::Error on a wrong count or a std <= 0.
model::ImagePreprocessing image_preprocessing(const std::vector<float>& mean,
                                              const std::vector<float>& std, bool no_crop);

}  // namespace mcusplit::cli
