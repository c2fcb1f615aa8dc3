// Float models for the quantization tests: a small zoo MobileNetV2 taken
// through ONNX on disk (write, import, passes) and hand-built ONNX graphs.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "model/graph.h"
#include "model/onnx_builder.h"
#include "model/onnx_import.h"
#include "model/onnx_writer.h"
#include "model/passes.h"
#include "model/zoo_mobilenetv2.h"

namespace mcusplit::quant_test {

inline std::string temp_file(const std::string& name) {
  return ::testing::TempDir() + "quant_" + std::to_string(::getpid()) + "_" + name;
}

// MobileNetV2 width 0.35 at 32x32, 10 classes: every operator of the real
// model (depthwise, residual Add, ReLU6, GAP, Flatten, Gemm) at test speed.
inline model::Graph small_mobilenetv2(uint64_t seed = 7) {
  model::MobileNetV2Options o;
  o.width = 0.35f;
  o.resolution = 32;
  o.classes = 10;
  o.seed = seed;
  const std::string path = temp_file("mnv2_" + std::to_string(seed) + ".onnx");
  model::write_onnx_file(model::make_mobilenetv2(o), path);
  model::Graph g = model::import_onnx_file(path);
  std::remove(path.c_str());
  model::run_standard_passes(g);
  return g;
}

inline model::Graph prepared(const onnx_test::OnnxBuilder& b) {
  model::Graph g = b.import();
  model::run_standard_passes(g);
  return g;
}

}  // namespace mcusplit::quant_test
