// `mcusplit infer MODEL --input FILE ... [--output FILE.pb] [--json]`: an
// .onnx model runs on the float reference engine, an .mq model on the int8
// executor in its static arena.
#include <fmt/core.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/input_loading.h"
#include "cli/model_loading.h"
#include "cli/mq_model.h"
#include "cli/top_k.h"
#include "common/error.h"
#include "model/float_executor.h"
#include "model/tensor_io.h"
#include "quant/int8_executor.h"
#include "quant/layout.h"
#include "quant/mq_format.h"

namespace mcusplit::cli {
namespace {

struct InferArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string output;
  std::string labels;
  bool json = false;
  ImageOptions image;
};

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

// Class names, one per line, from --labels.
std::vector<std::string> read_labels(const std::string& path) {
  std::vector<std::string> labels;
  if (path.empty()) return labels;
  std::ifstream in(path);
  if (!in) throw Error("cannot open labels file '" + path + "'");
  for (std::string line; std::getline(in, line);) labels.push_back(line);
  return labels;
}

void attach_labels(nlohmann::json& result, const std::vector<std::string>& labels) {
  for (auto& out : result) {
    for (auto& row : out["top5"]) {
      for (auto& s : row) {
        const auto index = s["index"].get<size_t>();
        if (index < labels.size()) s["label"] = labels[index];
      }
    }
  }
}

void print_outputs(const nlohmann::json& result) {
  for (const auto& out : result) {
    fmt::print("output {} {}\n", out["name"].get<std::string>(),
               model::dims_to_string(out["shape"].get<model::Dims>()));
    for (size_t r = 0; r < out["top5"].size(); ++r) {
      if (out["top5"].size() > 1) fmt::print(" item {}\n", r);
      for (const auto& s : out["top5"][r]) {
        fmt::print("  class {:>5}  score {:>10.4f}  p {:.4f}  {}\n", s["index"].get<int64_t>(),
                   s["score"].get<float>(), s["probability"].get<float>(),
                   s.contains("label") ? s["label"].get<std::string>() : "");
      }
    }
  }
}

void run_infer_float(const InferArgs& a) {
  const LoadedModel m = load_onnx_model(a.model);
  const model::Graph& g = m.prepared;
  const auto inputs = load_inputs(g, a.inputs, a.image.preprocessing());
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
  attach_labels(result, read_labels(a.labels));
  if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"outputs", result}}.dump(2));
    return;
  }
  print_outputs(result);
  if (!a.output.empty()) fmt::print("wrote {}\n", a.output);
}

// The int8 path: quantized input, one static arena, int8 output; the top-5
// are of the dequantized output.
void run_infer_int8(const InferArgs& a) {
  const quant::QGraph g = read_int8_model(a.model);
  if (a.inputs.size() != 1) {
    throw Error("the model has 1 input but " + std::to_string(a.inputs.size()) +
                " --input file(s) were given");
  }
  const std::vector<int8_t> input = load_int8_input(g, a.inputs[0], a.image.preprocessing());
  quant::Int8Executor exec(g);
  const std::vector<int8_t> output = exec.run(input);

  const quant::QTensor& out_t = g.tensors[static_cast<size_t>(g.output)];
  const model::Dims dims = onnx_dims(out_t.shape);
  if (!a.output.empty()) {
    // ONNX order, like the float path.
    const std::vector<int8_t> nchw = quant::nhwc_to_nchw(out_t.shape, output);
    model::write_int8_tensor_file(a.output, out_t.name, dims, nchw);
  }
  const model::FloatTensor dequantized(dims, quant::dequantize_output(g, output));
  nlohmann::json result = nlohmann::json::array();
  result.push_back({{"name", out_t.name}, {"shape", dims}, {"top5", top5_json(dequantized)}});
  attach_labels(result, read_labels(a.labels));
  if (a.json) {
    fmt::print("{}\n", nlohmann::json{{"outputs", result},
                                      {"arena_bytes", exec.arena_bytes()},
                                      {"arena_high_water_bytes", exec.high_water_bytes()}}
                           .dump(2));
    return;
  }
  print_outputs(result);
  fmt::print("arena: {} bytes planned, {} bytes high water\n", exec.arena_bytes(),
             exec.high_water_bytes());
  if (!a.output.empty()) fmt::print("wrote {}\n", a.output);
}

void run_infer(const InferArgs& a) {
  if (is_int8_model_path(a.model)) {
    run_infer_int8(a);
  } else {
    run_infer_float(a);
  }
}

}  // namespace

void add_infer_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "infer", "Run a model: .onnx on the float reference engine, .mq on the int8 executor");
  auto args = std::make_shared<InferArgs>();
  cmd->add_option("model", args->model,
                  "Model file (.onnx, or .mq from quantize, or an int8 .tflite)")
      ->required();
  cmd->add_option("--input", args->inputs, "Input: TensorProto .pb or image, one per graph input")
      ->required();
  cmd->add_option("--output", args->output,
                  "Write the first output as a TensorProto .pb (INT8 for an .mq model)");
  cmd->add_flag("--json", args->json, "Print JSON (top-5 per output row)");
  cmd->add_option("--labels", args->labels, "Class names, one per line, to print with the top-5");
  add_image_options(cmd, &args->image);
  cmd->callback([args] { run_infer(*args); });
}

}  // namespace mcusplit::cli
