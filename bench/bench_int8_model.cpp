// MobileNetV2-1.0 at 224, int8, one device, host: the whole-model latency of
// the single-device executor (static arena, dispatching conv kernels).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "model/onnx_import.h"
#include "model/passes.h"
#include "model/zoo_mobilenetv2.h"
#include "quant/calibration.h"
#include "quant/int8_executor.h"
#include "quant/quantizer.h"

namespace {

using mcusplit::quant::QGraph;

// Quantized once per process (random calibration, two samples): repetitions
// and re-runs of the benchmark reuse it.
const QGraph& mobilenetv2_int8() {
  static const QGraph graph = [] {
    mcusplit::model::MobileNetV2Options options;  // width 1.0, 224, 1000 classes
    options.seed = 1;
    mcusplit::model::Graph g = mcusplit::model::import_onnx_model(
        mcusplit::model::make_mobilenetv2(options), "zoo mobilenetv2");
    mcusplit::model::run_standard_passes(g);
    auto source = mcusplit::quant::open_calibration_source(
        "random", g.tensors[static_cast<size_t>(g.inputs[0])].shape, {});
    mcusplit::quant::CalibrationOptions calib;
    calib.samples = 2;
    const auto c = mcusplit::quant::calibrate(g, *source, calib);
    return mcusplit::quant::quantize_graph(g, c.ranges, "zoo mobilenetv2");
  }();
  return graph;
}

void BM_MobileNetV2_224_Int8(benchmark::State& state) {
  const QGraph& g = mobilenetv2_int8();
  mcusplit::quant::Int8Executor exec(g);
  std::vector<int8_t> input(static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()));
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<int8_t>(i * 7);
  std::vector<int8_t> output(static_cast<size_t>(g.tensors[static_cast<size_t>(g.output)].bytes()));
  int64_t macs = 0;
  for (const auto& l : g.layers) macs += mcusplit::quant::layer_macs(g, l);
  for (auto _ : state) {
    exec.run(input.data(), output.data());
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * macs);
  state.counters["arena_bytes"] = static_cast<double>(exec.arena_bytes());
}

}  // namespace

BENCHMARK(BM_MobileNetV2_224_Int8)->Unit(benchmark::kMillisecond)->MinTime(2.0);

BENCHMARK_MAIN();
