// `mcusplit export MODEL.mq|MODEL.tflite -o MODEL.tflite`: writes the int8
// model as a TensorFlow Lite flatbuffer TFLM runs, computing the same bits
// (tflite/tflite_export.h); a layer TFLite cannot express exactly is refused
// by name and no file is written.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/mq_model.h"
#include "common/error.h"
#include "tflite/tflite_export.h"
#include "tflite/tflite_import.h"

namespace mcusplit::cli {

namespace {

struct ExportArgs {
  std::string model;
  std::string output;
};

void run_export(const ExportArgs& a) {
  if (!is_int8_model_path(a.model)) {
    throw Error("export reads an int8 model (.mq or .tflite); '" + a.model +
                "' is neither (quantize an ONNX model first)");
  }
  if (!tflite::is_tflite_path(a.output)) {
    throw Error("export writes a .tflite file; '" + a.output + "' does not end in .tflite");
  }
  const quant::QGraph graph = read_int8_model(a.model);
  tflite::write_tflite_file(graph, a.output);
  fmt::print("wrote {} ({} layers)\n", a.output, graph.layers.size());
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export", "Write an int8 model as a TensorFlow Lite flatbuffer (TFLM runs it bit-exact)");
  auto args = std::make_shared<ExportArgs>();
  cmd->add_option("model", args->model, "The int8 model: .mq or .tflite")->required();
  cmd->add_option("-o,--output", args->output, "The .tflite file to write")->required();
  cmd->callback([args] { run_export(*args); });
}

}  // namespace mcusplit::cli
