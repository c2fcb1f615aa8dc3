// Turning --input files into graph input tensors.
#pragma once

#include <CLI/CLI.hpp>

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

// --mean, --std and --no-crop of the verbs that read images for a model
// (`infer`, `run`).
struct ImageOptions {
  std::vector<float> mean{0.485f, 0.456f, 0.406f};  // ImageNet
  std::vector<float> std{0.229f, 0.224f, 0.225f};
  bool no_crop = false;

  // One value serves every channel, or three (RGB); throws mcusplit::Error on
  // another count or a std <= 0.
  model::ImagePreprocessing preprocessing() const;
};

void add_image_options(CLI::App* cmd, ImageOptions* options);

}  // namespace mcusplit::cli
