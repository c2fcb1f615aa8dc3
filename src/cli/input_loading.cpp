#include "cli/input_loading.h"

#include "common/error.h"
#include "model/tensor_io.h"

namespace mcusplit::cli {

std::vector<model::FloatTensor> load_inputs(const model::Graph& graph,
                                            const std::vector<std::string>& files,
                                            const model::ImagePreprocessing& preprocessing) {
  if (files.size() != graph.inputs.size()) {
    throw Error("the model has " + std::to_string(graph.inputs.size()) + " input(s) but " +
                std::to_string(files.size()) + " --input file(s) were given");
  }
  std::vector<model::FloatTensor> tensors;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& declared = graph.tensors[static_cast<size_t>(graph.inputs[i])].shape;
    if (model::looks_like_image(files[i])) {
      tensors.push_back(model::load_image_tensor(files[i], declared, preprocessing));
    } else {
      tensors.push_back(model::read_tensor_file(files[i]));
    }
  }
  return tensors;
}

model::ImagePreprocessing ImageOptions::preprocessing() const {
  const auto valid_count = [](size_t n) { return n == 1 || n == 3; };
  if (!valid_count(mean.size()) || !valid_count(std.size())) {
    throw Error("--mean and --std take one value (grey) or three comma-separated values (RGB)");
  }
  model::ImagePreprocessing p;
  for (size_t i = 0; i < 3; ++i) {
    p.mean[i] = mean.size() == 1 ? mean[0] : mean[i];
    p.std[i] = std.size() == 1 ? std[0] : std[i];
    if (!(p.std[i] > 0.0f)) throw Error("--std values must be positive");
  }
  p.center_crop = !no_crop;
  return p;
}

void add_image_options(CLI::App* cmd, ImageOptions* options) {
  cmd->add_option("--mean", options->mean, "Image normalisation mean: one value or r,g,b")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--std", options->std, "Image normalisation std: one value or r,g,b")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--no-crop", options->no_crop, "Resize images straight to the input size");
}

}  // namespace mcusplit::cli
