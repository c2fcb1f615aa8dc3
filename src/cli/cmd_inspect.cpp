// `mcusplit inspect MODEL [--json]`: per-layer table and totals.
#include <fmt/core.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/inspect_mq.h"
#include "cli/model_loading.h"
#include "cli/mq_model.h"
#include "model/model_stats.h"

namespace mcusplit::cli {
namespace {

std::string shapes_to_string(const std::vector<model::Dims>& shapes) {
  std::string s;
  for (const auto& d : shapes) {
    if (!s.empty()) s += " ";
    s += model::dims_to_string(d);
  }
  return s;
}

void print_table(const model::ModelStats& stats, int64_t params_imported) {
  size_t name_width = 5;
  size_t op_width = 2;
  size_t inputs_width = 6;
  for (const auto& l : stats.layers) {
    name_width = std::max(name_width, l.name.size());
    op_width = std::max(op_width, l.op.size());
    inputs_width = std::max(inputs_width, shapes_to_string(l.input_shapes).size());
  }
  const auto row = [&](const std::string& name, const std::string& op, const std::string& inputs,
                       const std::string& output, const std::string& params,
                       const std::string& macs, const std::string& io) {
    fmt::print("{:<{}}  {:<{}}  {:<{}}  {:<20} {:>10} {:>13} {:>11}\n", name, name_width, op,
               op_width, inputs, inputs_width, output, params, macs, io);
  };
  row("layer", "op", "inputs", "output", "params", "MACs", "io int8 B");
  for (const auto& l : stats.layers) {
    row(l.name, l.op, shapes_to_string(l.input_shapes), model::dims_to_string(l.output_shape),
        std::to_string(l.params), std::to_string(l.macs), std::to_string(l.io_bytes_int8));
  }
  fmt::print("\nlayers: {}\n", stats.layers.size());
  fmt::print("params: {} as trained ({} after batch-norm folding)\n", params_imported,
             stats.params);
  fmt::print("MACs: {}\n", stats.macs);
  fmt::print("peak layer input+output (int8): {} bytes\n", stats.peak_layer_io_bytes_int8);
}

nlohmann::json to_json(const model::ModelStats& stats, int64_t params_imported) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : stats.layers) {
    layers.push_back({{"name", l.name},
                      {"op", l.op},
                      {"input_shapes", l.input_shapes},
                      {"output_shape", l.output_shape},
                      {"params", l.params},
                      {"macs", l.macs},
                      {"io_bytes_int8", l.io_bytes_int8}});
  }
  return {{"layers", layers},
          {"params", params_imported},
          {"params_after_folding", stats.params},
          {"macs", stats.macs},
          {"peak_layer_io_bytes_int8", stats.peak_layer_io_bytes_int8}};
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Per-layer shapes, parameters, MACs and memory");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("model", *path, "Model file (.onnx, or .mq from quantize, or an int8 .tflite)")
      ->required();
  cmd->add_flag("--json", *json, "Print JSON instead of a table");
  cmd->callback([path, json] {
    if (is_int8_model_path(*path)) return inspect_mq(*path, *json);
    const LoadedModel m = load_onnx_model(*path);
    // Parameters are counted as trained (batch norm separate), the layers as
    // they run (batch norm and activations folded).
    const int64_t params_imported = model::compute_model_stats(m.imported).params;
    const model::ModelStats stats = model::compute_model_stats(m.prepared);
    if (*json) {
      fmt::print("{}\n", to_json(stats, params_imported).dump(2));
    } else {
      print_table(stats, params_imported);
    }
  });
}

}  // namespace mcusplit::cli
