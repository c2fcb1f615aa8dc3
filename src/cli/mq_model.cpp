#include "cli/mq_model.h"

#include "common/error.h"
#include "model/tensor_io.h"
#include "quant/layout.h"
#include "quant/mq_format.h"
#include "tflite/tflite_import.h"

namespace mcusplit::cli {

namespace {

enum class Layout { Nchw, Nhwc };

// Which layout a tensor file's dims give the input in: NHWC when they are
// [1, H, W, C] and not also [1, C, H, W]; when both read alike, the layout
// the model came with (a TFLite model's inputs are NHWC).
Layout layout_of(const quant::QGraph& graph, const model::Dims& dims) {
  const quant::QTensor& in = graph.tensors[static_cast<size_t>(graph.input)];
  const model::Dims nhwc{1, in.shape.h, in.shape.w, in.shape.c};
  const model::Dims nchw{1, in.shape.c, in.shape.h, in.shape.w};
  if (dims == nhwc && dims != nchw) return Layout::Nhwc;
  if (dims == nchw && dims != nhwc) return Layout::Nchw;
  return tflite::is_tflite_path(graph.source_model) ? Layout::Nhwc : Layout::Nchw;
}

}  // namespace

bool is_mq_path(const std::string& path) {
  return path.size() >= 3 && path.compare(path.size() - 3, 3, ".mq") == 0;
}

bool is_int8_model_path(const std::string& path) {
  return is_mq_path(path) || tflite::is_tflite_path(path);
}

quant::QGraph read_int8_model(const std::string& path) {
  return tflite::is_tflite_path(path) ? tflite::read_tflite_file(path) : quant::read_mq_file(path);
}

model::Dims onnx_dims(const core::TensorShape3& shape) {
  if (shape.h == 1 && shape.w == 1) return {1, shape.c};
  return {1, shape.c, shape.h, shape.w};
}

std::vector<int8_t> load_int8_input(const quant::QGraph& graph, const std::string& file,
                                    const model::ImagePreprocessing& preprocessing) {
  const quant::QTensor& in = graph.tensors[static_cast<size_t>(graph.input)];
  const model::Dims dims{1, in.shape.c, in.shape.h, in.shape.w};
  const bool image = model::looks_like_image(file);
  model::FloatTensor t =
      image ? model::load_image_tensor(file, dims, preprocessing) : model::read_tensor_file(file);
  if (static_cast<int64_t>(t.data.size()) != in.bytes()) {
    throw Error("input '" + file + "' has shape " + model::dims_to_string(t.shape) +
                " but the model's input '" + in.name + "' is " + model::dims_to_string(dims));
  }
  const Layout layout = image ? Layout::Nchw : layout_of(graph, t.shape);
  if (!image && model::tensor_file_is_int8(file)) {
    // Already quantized: the values as they are, in NHWC order.
    std::vector<int8_t> q(t.data.size());
    for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(t.data[i]);
    return layout == Layout::Nhwc ? q : quant::nchw_to_nhwc(in.shape, q);
  }
  if (layout == Layout::Nhwc) t.data = quant::nhwc_to_nchw(in.shape, t.data);
  return quant::quantize_input(graph, t.data);
}

}  // namespace mcusplit::cli
