#include "tflite/tflite_import.h"

#include <filesystem>

#include "model/file_io.h"
#include "quant/qgraph_validate.h"
#include "tflite/import_ops.h"
#include "tflite/tflite_model.h"
#include "tflite/tflite_operators.h"

namespace mcusplit::tflite {

namespace {

struct Converter {
  int32_t code;
  void (*convert)(ImportContext&);
};

// One row per supported builtin operator.
constexpr Converter kConverters[] = {
    {kConv2D, import_conv_2d},
    {kDepthwiseConv2D, import_depthwise_conv_2d},
    {kAveragePool2D, import_average_pool_2d},
    {kMaxPool2D, import_max_pool_2d},
    {kReshape, import_reshape},
    {kSqueeze, import_reshape},
    {kSoftmax, import_softmax},
    {kMean, import_mean},
    {kFullyConnected, import_fully_connected},
    {kAdd, import_add},
    {kConcatenation, import_concatenation},
    {kPad, import_pad},
    {kPadV2, import_pad},
    {kTranspose, refuse_inner_edge_op},
    {kQuantize, refuse_inner_edge_op},
    {kDequantize, refuse_inner_edge_op},
};

const Converter* converter_of(int32_t code) {
  for (const Converter& c : kConverters) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

int32_t single_tensor(const ImportContext& ctx, const flatbuffers::Vector<int32_t>* list,
                      const char* what) {
  const size_t n = list == nullptr ? 0 : list->size();
  if (n != 1) {
    ctx.fail("has " + std::to_string(n) + " graph " + what + "s; only models with one " + what +
             " are supported");
  }
  return list->Get(0);
}

}  // namespace

bool is_tflite_path(const std::string& path) {
  const std::string ext = ".tflite";
  return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}

std::vector<std::string> supported_operators() {
  std::vector<std::string> names;
  for (const Converter& c : kConverters) names.push_back(builtin_operator_name(c.code));
  return names;
}

quant::QGraph import_tflite(const std::string& bytes, const std::string& origin) {
  const TfliteModel model(bytes, origin);
  quant::QGraph g;
  ImportContext ctx(model, g);
  const fb::SubGraph& sub = model.graph();
  const GraphEdges edges = graph_edges(ctx, single_tensor(ctx, sub.inputs(), "input"),
                                       single_tensor(ctx, sub.outputs(), "output"));
  g.input = ctx.activation(edges.input);
  ctx.set_graph_input(g.input);
  const uint32_t op_count = sub.operators() == nullptr ? 0 : sub.operators()->size();
  for (uint32_t i = 0; i < op_count; ++i) {
    if (edges.skipped[i]) continue;
    const fb::Operator& op = *sub.operators()->Get(i);
    const int32_t code = model.builtin_code(op);
    const std::string name = builtin_operator_name(code);
    ctx.begin_operator(static_cast<int32_t>(i), op, name);
    const Converter* c = converter_of(code);
    if (c == nullptr) {
      ctx.fail("is not supported; supported operators: " + joined(supported_operators()));
    }
    c->convert(ctx);
  }
  ctx.end_operators();
  g.output = ctx.activation(edges.output);
  if (g.layers.empty() || !ctx.computed(g.output) || g.output == g.input) {
    ctx.fail("the graph output '" + ctx.qtensor(g.output).name +
             "' is not computed by any operator");
  }
  g.source_model = std::filesystem::path(origin).filename().string();
  quant::validate_qgraph(g, origin);
  return g;
}

quant::QGraph read_tflite_file(const std::string& path) {
  return import_tflite(model::read_file_bytes(path), path);
}

}  // namespace mcusplit::tflite
