// `mcusplit infer MODEL --input FILE ... [--output FILE.pb] [--json]`
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/input_loading.h"
#include "cli/model_loading.h"
#include "cli/top_k.h"
#include "model/error.h"
#include "model/float_executor.h"
#include "model/tensor_io.h"

namespace mcusplit::cli {
namespace {

struct InferArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output;
  bool json = false;
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> std{0.229f, 0.224f, 0.225f};
  bool no_crop = false;
};

model::ImagePreprocessing preprocessing_from(const InferArgs& a) {
  if (a.mean.size() != 3 || a.std.size() != 3) {
    throw Error("--mean and --std take three comma-separated values");
  }
  model::ImagePreprocessing p;
  for (size_t i = 0; i < 3; ++i) {
    if (!(a.std[i] > 0.0f)) throw Error("--std values must be positive");
    p.mean[i] = a.mean[i];
    p.std[i] = a.std[i];
  }
  p.center_crop = !a.no_crop;
  return p;
}

// Rows of a classifier output: [N, K] or anything whose last dim is the classes.
nlohmann::json top5_json(const model::FloatTensor& out) {
  nlohmann::json rows = nlohmann::json::array();
  const int64_t classes = out.shape.empty() ? 1 : out.shape.back();
  const int64_t count = classes == 0 ? 0 : model::element_count(out.shape) / classes;
  for (int64_t r = 0; r < count; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (const auto& s : top_k(&out.data[static_cast<size_t>(r * classes)], classes, 5)) {
      row.push_back({{"index", s.index}, {"score", s.score}, {"probability", s.probability}});
    }
    rows.push_back(row);
  }
  return rows;
}

void run_infer(const InferArgs& a) {
  const LoadedModel m = load_onnx_model(a.model);
  const model::Graph& g = m.prepared;
  const auto inputs = load_inputs(g, a.inputs, preprocessing_from(a));
  const auto outputs = model::run_graph(g, inputs);

  if (!a.output.empty()) {
    model::write_tensor_file(a.output, g.tensors[static_cast<size_t>(g.outputs[0])].name,
                             outputs[0]);
  }
  nlohmann::json result = nlohmann::json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    result.push_back({{"name", g.tensors[static_cast<size_t>(g.outputs[i])].name},
                      {"shape", outputs[i].shape},
                      {"top5", top5_json(outputs[i])}});
  }
  if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"outputs", result}}.dump(2));
    return;
  }
  for (const auto& out : result) {
    fmt::print("output {} {}\n", out["name"].get<std::string>(),
               model::dims_to_string(out["shape"].get<model::Dims>()));
    for (size_t r = 0; r < out["top5"].size(); ++r) {
      if (out["top5"].size() > 1) fmt::print(" item {}\n", r);
      for (const auto& s : out["top5"][r]) {
        fmt::print("  class {:>5}  score {:>10.4f}  p {:.4f}\n", s["index"].get<int64_t>(),
                   s["score"].get<float>(), s["probability"].get<float>());
      }
    }
  }
  if (!a.output.empty()) fmt::print("wrote {}\n", a.output);
}

}  // namespace

void add_infer_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("infer", "Run a model with the float reference engine");
  auto args = std::make_shared<InferArgs>();
  cmd->add_option("model", args->model, "Model file (.onnx)")->required();
  cmd->add_option("--input", args->inputs, "Input: TensorProto .pb or image, one per graph input")
      ->required();
  cmd->add_option("--output", args->output, "Write the first output as a TensorProto .pb");
  cmd->add_flag("--json", args->json, "Print JSON (top-5 per output row)");
  cmd->add_option("--mean", args->mean, "Image normalisation mean per channel (RGB)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--std", args->std, "Image normalisation std per channel (RGB)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--no-crop", args->no_crop, "Resize images straight to the input size");
  cmd->callback([args] { run_infer(*args); });
}

}  // namespace mcusplit::cli
