// Zoo MobileNetV2 quantized with seeded random calibration, as the CLI's
// `zoo` + `quantize --calib random` would, for executor tests.
#pragma once

#include <map>
#include <tuple>

#include "model/onnx_import.h"
#include "model/passes.h"
#include "model/zoo_mobilenetv2.h"
#include "quant/calibration.h"
#include "quant/quantizer.h"

namespace mcusplit::testing {

inline quant::QGraph quantize_mobilenetv2(const model::MobileNetV2Options& options,
                                          int64_t samples) {
  model::Graph g = model::import_onnx_model(model::make_mobilenetv2(options), "zoo mobilenetv2");
  model::run_standard_passes(g);
  const auto& input_shape = g.tensors[static_cast<size_t>(g.inputs[0])].shape;
  auto source = quant::open_calibration_source("random", input_shape, {});
  quant::CalibrationOptions calib;
  calib.samples = samples;
  const quant::Calibration c = quant::calibrate(g, *source, calib);
  return quant::quantize_graph(g, c.ranges, "zoo mobilenetv2");
}

// Quantized once per test binary and configuration (the 224 model takes seconds).
inline const quant::QGraph& cached_mobilenetv2(float width, int resolution, int classes) {
  static std::map<std::tuple<float, int, int>, quant::QGraph> cache;
  const auto key = std::make_tuple(width, resolution, classes);
  auto it = cache.find(key);
  if (it == cache.end()) {
    model::MobileNetV2Options o;
    o.width = width;
    o.resolution = resolution;
    o.classes = classes;
    o.seed = 1;
    it = cache.emplace(key, quantize_mobilenetv2(o, 2)).first;
  }
  return it->second;
}

}  // namespace mcusplit::testing
