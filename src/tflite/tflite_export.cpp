#include "tflite/tflite_export.h"

#include "model/file_io.h"
#include "tflite/export_model.h"
#include "tflite/export_ops.h"

namespace mcusplit::tflite {

namespace {

void export_layer(ExportModel& m, const quant::QLayer& l) {
  switch (l.op) {
    case quant::OpType::Conv:
      return export_conv(m, l);
    case quant::OpType::FullyConnected:
      return export_fully_connected(m, l);
    case quant::OpType::Add:
      return export_add(m, l);
    case quant::OpType::MaxPool:
    case quant::OpType::AveragePool:
      return export_pool(m, l);
    case quant::OpType::GlobalAveragePool:
      return export_global_average_pool(m, l);
    case quant::OpType::Concat:
      return export_concat(m, l);
    case quant::OpType::Reshape:
      return export_reshape(m, l);
    case quant::OpType::Softmax:
      return export_softmax(m, l);
    case quant::OpType::Pad:
      return export_pad(m, l);
  }
  refuse_layer(l, "unknown operator");
}

}  // namespace

std::string export_tflite(const quant::QGraph& graph) {
  ExportModel m(graph);
  for (const quant::QLayer& l : graph.layers) export_layer(m, l);
  return m.serialize();
}

void write_tflite_file(const quant::QGraph& graph, const std::string& path) {
  model::write_file_atomically(path, export_tflite(graph), "TFLite model ");
}

}  // namespace mcusplit::tflite
