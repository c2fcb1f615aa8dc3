#include "cli/input_loading.h"

#include "model/error.h"
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

}  // namespace mcusplit::cli
