// `mcusplit quantize MODEL.onnx --calib SRC [--samples N] [--percentile P]
//  [--seed S] [--mean ...] [--std ...] [--no-crop] -o MODEL.mq`
#include <fmt/core.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "common/error.h"
#include "quant/calibration.h"
#include "quant/mq_format.h"
#include "quant/quantizer.h"

namespace mcusplit::cli {
namespace {

struct QuantizeArgs {
  std::string model;
  std::string calib;
  std::string output;
  int64_t samples = 100;
  double percentile = 100.0;
  uint64_t seed = 0;
  std::vector<float> mean;  // empty: the source kind's default
  std::vector<float> std;
  bool no_crop = false;
};

// Per-channel statistics: one value for all channels, or three (RGB).
std::array<float, 3> per_channel(const std::vector<float>& v, const char* flag) {
  if (v.size() == 1) return {v[0], v[0], v[0]};
  if (v.size() == 3) return {v[0], v[1], v[2]};
  throw Error(fmt::format("{} takes one value or three comma-separated values", flag));
}

quant::CalibrationInputOptions input_options(const QuantizeArgs& a) {
  quant::CalibrationInputOptions o;
  o.seed = a.seed;
  o.image_preprocessing.center_crop = !a.no_crop;
  if (!a.mean.empty()) o.image_preprocessing.mean = per_channel(a.mean, "--mean");
  if (!a.std.empty()) o.image_preprocessing.std = per_channel(a.std, "--std");
  for (float s : o.image_preprocessing.std) {
    if (!(s > 0.0f)) throw Error("--std values must be positive");
  }
  // IDX images are grey: a single mean and std (Fashion-MNIST's by default).
  const bool is_idx_file = a.calib != "random" && std::filesystem::is_regular_file(a.calib);
  if (is_idx_file && (a.mean.size() > 1 || a.std.size() > 1)) {
    throw Error("IDX images are grey: give --mean and --std one value each");
  }
  if (!a.mean.empty()) o.idx_normalization.mean = a.mean[0];
  if (!a.std.empty()) o.idx_normalization.std = a.std[0];
  return o;
}

// A bar on stderr, redrawn in place; only when stderr is a terminal so logs
// and tests never see control characters.
std::function<void(int64_t, int64_t)> progress_bar() {
  if (!::isatty(::fileno(stderr))) return {};
  return [](int64_t done, int64_t total) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / (total > 0 ? total : 1));
    std::fprintf(stderr, "\rcalibrating [%s%s] %lld/%lld",
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(kWidth - filled), ' ').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total));
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

void run_quantize(const QuantizeArgs& a) {
  const LoadedModel m = load_onnx_model(a.model);
  const model::Graph& g = m.prepared;
  quant::check_single_input_output(g);

  const model::Dims& input_shape = g.tensors[static_cast<size_t>(g.inputs[0])].shape;
  auto source = quant::open_calibration_source(a.calib, input_shape, input_options(a));
  quant::CalibrationOptions options;
  options.samples = a.samples;
  options.percentile = a.percentile;
  options.progress = progress_bar();
  const quant::Calibration calibration = quant::calibrate(g, *source, options);
  if (options.progress && calibration.samples < a.samples) std::fprintf(stderr, "\n");

  const quant::QGraph q = quant::quantize_graph(g, calibration.ranges,
                                                std::filesystem::path(a.model).filename().string());
  quant::write_mq_file(q, a.output);

  std::map<std::string, int> by_op;
  int64_t weight_bytes = 0;
  int64_t constant_bytes = 0;
  for (const quant::QLayer& l : q.layers) {
    ++by_op[quant::op_type_name(l.op)];
    weight_bytes += static_cast<int64_t>(l.weights.size());
    constant_bytes += l.constant_bytes();
  }
  std::string ops;
  for (const auto& [name, count] : by_op)
    ops += fmt::format("{}{} {}", ops.empty() ? "" : ", ", name, count);
  fmt::print("quantized {} -> {}\n", a.model, a.output);
  fmt::print("  layers:       {} ({})\n", q.layers.size(), ops);
  fmt::print("  tensors:      {}\n", q.tensors.size());
  fmt::print("  weight bytes: {} int8 weights, {} with bias and requantization\n", weight_bytes,
             constant_bytes);
  fmt::print("  calibration:  {} samples from {}, {}", calibration.samples, calibration.source,
             a.percentile < 100.0 ? fmt::format("percentile {}", a.percentile) : "min/max");
  if (calibration.skipped_inputs > 0) {
    fmt::print(", {} unreadable files skipped", calibration.skipped_inputs);
  }
  fmt::print("\n");
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("quantize", "Post-training int8 quantization to an .mq file");
  auto args = std::make_shared<QuantizeArgs>();
  cmd->add_option("model", args->model, "Model file (.onnx)")->required();
  cmd->add_option("--calib", args->calib,
                  "Calibration inputs: a folder of images, an IDX image file, or random")
      ->required();
  cmd->add_option("--samples", args->samples, "Calibration inputs to run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--percentile", args->percentile,
                  "Clip each activation range to this percentile (100 = min/max)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--seed", args->seed, "Seed of --calib random")->capture_default_str();
  cmd->add_option("--mean", args->mean,
                  "Normalisation mean, one value or r,g,b (default: ImageNet for image folders, "
                  "0.2860 for IDX)")
      ->delimiter(',');
  cmd->add_option("--std", args->std,
                  "Normalisation std, one value or r,g,b (default: ImageNet for image folders, "
                  "0.3530 for IDX)")
      ->delimiter(',');
  cmd->add_flag("--no-crop", args->no_crop, "Resize folder images straight to the input size");
  cmd->add_option("-o,--output", args->output, "The .mq file to write")->required();
  cmd->callback([args] { run_quantize(*args); });
}

}  // namespace mcusplit::cli
