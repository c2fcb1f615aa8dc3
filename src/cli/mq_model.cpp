#include "cli/mq_model.h"

#include "common/error.h"
#include "model/tensor_io.h"

namespace mcusplit::cli {

bool is_mq_path(const std::string& path) {
  return path.size() >= 3 && path.compare(path.size() - 3, 3, ".mq") == 0;
}

model::Dims onnx_dims(const core::TensorShape3& shape) {
  if (shape.h == 1 && shape.w == 1) return {1, shape.c};
  return {1, shape.c, shape.h, shape.w};
}

std::vector<int8_t> load_int8_input(const quant::QGraph& graph, const std::string& file,
                                    const model::ImagePreprocessing& preprocessing) {
  const quant::QTensor& in = graph.tensors[static_cast<size_t>(graph.input)];
  const model::Dims dims{1, in.shape.c, in.shape.h, in.shape.w};
  const model::FloatTensor t = model::looks_like_image(file)
                                   ? model::load_image_tensor(file, dims, preprocessing)
                                   : model::read_tensor_file(file);
  if (static_cast<int64_t>(t.data.size()) != in.bytes()) {
    throw Error("input '" + file + "' has shape " + model::dims_to_string(t.shape) +
                " but the model's input '" + in.name + "' is " + model::dims_to_string(dims));
  }
  return quant::quantize_input(graph, t.data);
}

}  // namespace mcusplit::cli
