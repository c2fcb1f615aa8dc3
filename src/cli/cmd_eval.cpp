// `mcusplit eval MODEL --idx IMAGES LABELS [--limit N] [--json]`: top-1
// accuracy on a labelled IDX data set (Fashion-MNIST's format), float for an
// .onnx model, int8 for an .mq model.
#include <fmt/core.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/mq_model.h"
#include "common/error.h"
#include "quant/accuracy.h"
#include "quant/mq_format.h"

namespace mcusplit::cli {
namespace {

struct EvalArgs {
  std::string model;
  std::vector<std::string> idx;
  int64_t limit = 0;
  float mean = model::GreyNormalization{}.mean;
  float std = model::GreyNormalization{}.std;
  bool json = false;
};

void run_eval(const EvalArgs& a) {
  if (!(a.std > 0.0f)) throw Error("--std must be positive");
  const model::IdxImages images = model::read_idx_images(a.idx.at(0));
  const std::vector<uint8_t> labels = model::read_idx_labels(a.idx.at(1));
  const model::GreyNormalization norm{a.mean, a.std};

  const auto start = std::chrono::steady_clock::now();
  const bool int8 = is_int8_model_path(a.model);
  quant::AccuracyResult r;
  if (int8) {
    const quant::QGraph graph = read_int8_model(a.model);
    r = quant::evaluate_int8(graph, images, labels, norm, a.limit);
  } else {
    r = quant::evaluate_float(load_onnx_model(a.model).prepared, images, labels, norm, a.limit);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"accuracy", r.accuracy()},
                                      {"count", r.count},
                                      {"correct", r.correct},
                                      {"engine", int8 ? "int8" : "float"},
                                      {"seconds", seconds}}
                           .dump(2));
    return;
  }
  fmt::print("{} engine: accuracy {:.2f}% ({} of {} images) in {:.1f} s\n", int8 ? "int8" : "float",
             100.0 * r.accuracy(), r.correct, r.count, seconds);
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Top-1 accuracy on a labelled IDX data set");
  auto args = std::make_shared<EvalArgs>();
  cmd->add_option("model", args->model,
                  "Model: .onnx (float engine), or .mq or int8 .tflite (int8 engine)")
      ->required();
  cmd->add_option("--idx", args->idx, "IDX images and labels files (.gz or plain)")
      ->required()
      ->expected(2);
  cmd->add_option("--limit", args->limit, "Evaluate only the first N images");
  cmd->add_option("--mean", args->mean, "Grey normalisation mean (after scaling to [0, 1])")
      ->capture_default_str();
  cmd->add_option("--std", args->std, "Grey normalisation std")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print JSON with accuracy and count");
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace mcusplit::cli
