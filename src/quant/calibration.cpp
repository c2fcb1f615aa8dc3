#include "quant/calibration.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"
#include "model/float_executor.h"
#include "quant/range_recorder.h"

namespace mcusplit::quant {
namespace {

// Runs the graph on one input, handing every activation to `record` (graph
// input first, then node outputs in order) and freeing values after their
// last use.
template <typename Record>
void run_recording(const model::Graph& g, const std::vector<model::FloatTensor>& constants,
                   const std::vector<size_t>& last_use, model::FloatTensor input, Record&& record) {
  std::vector<model::FloatTensor> values(g.tensors.size());
  const auto in = static_cast<size_t>(g.inputs[0]);
  values[in] = std::move(input);
  record(in, values[in]);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const model::Node& node = g.nodes[n];
    std::vector<const model::FloatTensor*> args;
    for (int t : node.inputs) {
      if (t < 0) {
        args.push_back(nullptr);
        continue;
      }
      const auto ti = static_cast<size_t>(t);
      args.push_back(g.tensors[ti].is_constant ? &constants[ti] : &values[ti]);
    }
    auto outputs = model::evaluate_node(g, node, args);
    for (size_t o = 0; o < node.outputs.size() && o < outputs.size(); ++o) {
      const auto t = static_cast<size_t>(node.outputs[o]);
      values[t] = std::move(outputs[o]);
      record(t, values[t]);
    }
    for (int t : node.inputs) {
      if (t >= 0 && last_use[static_cast<size_t>(t)] == n) values[static_cast<size_t>(t)] = {};
    }
  }
}

}  // namespace

void check_single_input_output(const model::Graph& g) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1) {
    throw Error(
        fmt::format("int8 quantization needs a model with one input and one output, this "
                    "one has {} inputs and {} outputs",
                    g.inputs.size(), g.outputs.size()));
  }
  const model::Tensor& in = g.tensors[static_cast<size_t>(g.inputs[0])];
  if (in.shape.empty() || in.shape[0] != 1) {
    throw Error(fmt::format("int8 quantization needs batch 1, input '{}' has shape {}", in.name,
                            model::dims_to_string(in.shape)));
  }
}

Calibration calibrate(const model::Graph& g, CalibrationSource& source,
                      const CalibrationOptions& options) {
  check_single_input_output(g);
  if (options.samples < 1) throw Error("the number of calibration samples must be at least 1");
  if (!(options.percentile > 0.0 && options.percentile <= 100.0)) {
    throw Error(
        fmt::format("the calibration percentile must be in (0, 100], got {}", options.percentile));
  }

  std::vector<model::FloatTensor> constants(g.tensors.size());
  std::vector<size_t> last_use(g.tensors.size(), SIZE_MAX);
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].is_constant) constants[t] = {g.tensors[t].shape, g.tensors[t].data};
  }
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    for (int t : g.nodes[n].inputs) {
      if (t >= 0) last_use[static_cast<size_t>(t)] = n;
    }
  }

  // Histograms only for activations: constants never record.
  std::vector<RangeRecorder> recorders;
  recorders.reserve(g.tensors.size());
  for (const model::Tensor& t : g.tensors) {
    recorders.emplace_back(t.is_constant ? 100.0 : options.percentile);
  }
  const auto record = [&](size_t t, const model::FloatTensor& value) {
    for (float v : value.data) {
      if (!std::isfinite(v)) {
        throw Error(fmt::format("calibration: tensor '{}' takes a non-finite value ({})",
                                g.tensors[t].name, v));
      }
    }
    recorders[t].record(value.data.data(), value.data.size());
  };

  Calibration result;
  result.source = source.description();
  while (result.samples < options.samples) {
    std::optional<model::FloatTensor> input = source.next();
    if (!input) break;
    run_recording(g, constants, last_use, std::move(*input), record);
    ++result.samples;
    if (options.progress) options.progress(result.samples, options.samples);
  }
  result.skipped_inputs = source.skipped();
  if (result.samples == 0) {
    throw Error(fmt::format("calibration source {} gave no usable input ({} files skipped)",
                            result.source, result.skipped_inputs));
  }

  result.ranges.resize(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].is_constant) continue;
    const TensorRange exact = recorders[t].exact_range();
    if (!exact.recorded()) continue;  // not computed (unused tensor)
    if (exact.min == exact.max) {
      throw Error(
          fmt::format("cannot calibrate tensor '{}': it is constant ({}) over all {} "
                      "calibration samples, so it has no int8 scale",
                      g.tensors[t].name, exact.min, result.samples));
    }
    result.ranges[t] = recorders[t].range();
  }
  return result;
}

}  // namespace mcusplit::quant
