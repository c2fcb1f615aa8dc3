// The MobileNetV2 zoo model: structure, torchvision's figures, determinism,
// and that it imports, folds and runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>

#include "common/error.h"
#include "model/float_executor.h"
#include "model/model_stats.h"
#include "model/onnx_import.h"
#include "model/onnx_writer.h"
#include "model/passes.h"
#include "model/zoo_mobilenetv2.h"

namespace mcusplit::model {
namespace {

// torchvision figures for MobileNetV2-1.0 @ 224, 1000 classes (docs/design.md,
// "Background figures").
constexpr int64_t kParams = 3'504'872;
constexpr int64_t kMacs = 300'774'272;
constexpr int64_t kPeakIoBytes = 1'505'280;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "zoo_" + std::to_string(::getpid()) + "_" + name;
}

std::string serialize(const onnx::ModelProto& model) {
  std::string bytes;
  EXPECT_TRUE(model.SerializeToString(&bytes));
  return bytes;
}

std::map<std::string, int> count_ops(const onnx::ModelProto& model) {
  std::map<std::string, int> counts;
  for (const onnx::NodeProto& node : model.graph().node()) ++counts[node.op_type()];
  return counts;
}

// torchvision's count, on the proto: every initializer but BN running
// statistics and the Clip bounds.
int64_t torchvision_param_count(const onnx::ModelProto& model) {
  int64_t params = 0;
  for (const onnx::TensorProto& t : model.graph().initializer()) {
    const std::string& name = t.name();
    if (name.find("running_") != std::string::npos || name.rfind("clip_", 0) == 0) continue;
    int64_t n = 1;
    for (int64_t d : t.dims()) n *= d;
    EXPECT_EQ(static_cast<int64_t>(t.raw_data().size()), n * 4) << name;
    params += n;
  }
  return params;
}

// Graph imported from a written file, so the writer is on the path too.
Graph import_zoo_model(const MobileNetV2Options& options, const std::string& name) {
  const std::string path = temp_path(name);
  write_onnx_file(make_mobilenetv2(options), path);
  Graph graph = import_onnx_file(path);
  std::filesystem::remove(path);
  return graph;
}

int count_nodes(const Graph& graph, OpType op) {
  int n = 0;
  for (const Node& node : graph.nodes) n += node.op == op;
  return n;
}

// Deterministic input in [-1, 1), like a normalized image.
FloatTensor test_input(int resolution) {
  FloatTensor input({1, 3, resolution, resolution});
  uint32_t state = 12345;
  for (float& v : input.data) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return input;
}

TEST(ZooMobileNetV2, MakeDivisibleMatchesTorchvision) {
  EXPECT_EQ(make_divisible(32.0, 8), 32);
  EXPECT_EQ(make_divisible(32 * 0.35, 8), 16);  // 8 would lose over 10%
  EXPECT_EQ(make_divisible(16 * 0.35, 8), 8);
  EXPECT_EQ(make_divisible(24 * 0.75, 8), 24);  // 18 rounds up
  EXPECT_EQ(make_divisible(96 * 0.35, 8), 32);
  EXPECT_EQ(make_divisible(1280 * 1.4, 8), 1792);
  EXPECT_EQ(make_divisible(1.0, 8), 8);  // at least the divisor
}

TEST(ZooMobileNetV2, ProtoHasTorchvisionStructure) {
  const onnx::ModelProto model = make_mobilenetv2({});
  ASSERT_EQ(model.opset_import_size(), 1);
  EXPECT_EQ(model.opset_import(0).version(), 13);

  const std::map<std::string, int> ops = count_ops(model);
  EXPECT_EQ(ops.at("Conv"), 52);
  EXPECT_EQ(ops.at("BatchNormalization"), 52);
  EXPECT_EQ(ops.at("Clip"), 35);  // 1 stem + 16 expands + 17 depthwise + 1 last
  EXPECT_EQ(ops.at("Add"), 10);
  EXPECT_EQ(ops.at("Gemm"), 1);
  EXPECT_EQ(ops.at("GlobalAveragePool"), 1);
  EXPECT_EQ(ops.at("Flatten"), 1);
  EXPECT_EQ(ops.size(), 7u);

  const onnx::GraphProto& graph = model.graph();
  ASSERT_EQ(graph.input_size(), 1);
  EXPECT_EQ(graph.input(0).name(), "input");
  const auto& in_dims = graph.input(0).type().tensor_type().shape().dim();
  ASSERT_EQ(in_dims.size(), 4);
  EXPECT_EQ(in_dims[1].dim_value(), 3);
  EXPECT_EQ(in_dims[3].dim_value(), 224);
  ASSERT_EQ(graph.output_size(), 1);
  EXPECT_EQ(graph.output(0).name(), "output");
  EXPECT_EQ(graph.output(0).type().tensor_type().shape().dim(1).dim_value(), 1000);
  EXPECT_EQ(graph.node(graph.node_size() - 1).output(0), "output");
}

TEST(ZooMobileNetV2, ProtoParameterCountMatchesTorchvision) {
  EXPECT_EQ(torchvision_param_count(make_mobilenetv2({})), kParams);
}

TEST(ZooMobileNetV2, SameSeedSameBytesOtherSeedOtherWeights) {
  MobileNetV2Options options{.width = 0.5f, .resolution = 96, .classes = 10, .seed = 7};
  const std::string a = serialize(make_mobilenetv2(options));
  EXPECT_EQ(a, serialize(make_mobilenetv2(options)));

  options.seed = 8;
  const onnx::ModelProto other = make_mobilenetv2(options);
  EXPECT_NE(a, serialize(other));
  options.seed = 7;
  const onnx::ModelProto same = make_mobilenetv2(options);
  // Same structure, different values: compare the first conv's weights.
  ASSERT_EQ(other.graph().initializer_size(), same.graph().initializer_size());
  const onnx::TensorProto& w_other = other.graph().initializer(2);
  const onnx::TensorProto& w_same = same.graph().initializer(2);
  EXPECT_EQ(w_same.name(), "features.0.0.weight");
  EXPECT_EQ(w_other.name(), w_same.name());
  EXPECT_NE(w_other.raw_data(), w_same.raw_data());
}

TEST(ZooMobileNetV2, WrittenFileHoldsTheSerializedBytes) {
  const onnx::ModelProto model =
      make_mobilenetv2({.width = 0.35f, .resolution = 32, .classes = 3, .seed = 1});
  const std::string path = temp_path("written.onnx");
  write_onnx_file(model, path);
  write_onnx_file(model, path);  // overwriting is fine
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, serialize(model));
  std::filesystem::remove(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp" + std::to_string(::getpid())));
}

TEST(ZooMobileNetV2, WriteToMissingDirectoryThrows) {
  const onnx::ModelProto model = make_mobilenetv2({.width = 0.35f, .resolution = 32});
  EXPECT_THROW(write_onnx_file(model, temp_path("no/such/dir/m.onnx")), mcusplit::Error);
}

TEST(ZooMobileNetV2, BadOptionsRejected) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const MobileNetV2Options bad[] = {
      {.width = 0.0f},   {.width = -1.0f},     {.width = nan}, {.width = 5.0f}, {.resolution = 31},
      {.resolution = 0}, {.resolution = 4096}, {.classes = 0}, {.classes = -3},
  };
  for (const MobileNetV2Options& options : bad) {
    EXPECT_THROW(make_mobilenetv2(options), mcusplit::Error)
        << options.width << " " << options.resolution << " " << options.classes;
  }
  try {
    make_mobilenetv2({.classes = 0});
    FAIL();
  } catch (const mcusplit::Error& e) {
    EXPECT_NE(std::string(e.what()).find("classes"), std::string::npos);
    EXPECT_EQ(e.exit_code(), kExitBadInput);
  }
}

TEST(ZooMobileNetV2, OtherWidthsMatchTorchvisionParameterCounts) {
  // torchvision mobilenet_v2(width_mult=w) with 1000 classes.
  const std::pair<float, int64_t> expected[] = {
      {0.5f, 1'968'680}, {0.75f, 2'636'424}, {1.4f, 6'108'776}};
  for (const auto& [width, params] : expected) {
    EXPECT_EQ(torchvision_param_count(make_mobilenetv2({.width = width})), params)
        << "width " << width;
  }
}

// --- Through the importer, the passes and the float engine. ---

TEST(ZooMobileNetV2, ImportedGraphHasTorchvisionFigures) {
  const Graph graph = import_zoo_model({}, "full.onnx");
  EXPECT_EQ(count_nodes(graph, OpType::Conv), 52);
  EXPECT_EQ(count_nodes(graph, OpType::Gemm), 1);
  EXPECT_EQ(count_nodes(graph, OpType::Add), 10);

  const ModelStats imported = compute_model_stats(graph);
  EXPECT_EQ(imported.params, kParams);
  EXPECT_EQ(imported.macs, kMacs);

  const ModelStats inspected = inspect_model_stats(graph);
  EXPECT_EQ(inspected.params, kParams);
  EXPECT_EQ(inspected.macs, kMacs);
  EXPECT_EQ(inspected.peak_layer_io_bytes_int8, kPeakIoBytes);
  // BN and ReLU6 folded away: 52 convs + 10 adds + pool + flatten + gemm.
  EXPECT_EQ(inspected.layers.size(), 65u);
}

TEST(ZooMobileNetV2, PassedGraphPeakIsBlockTwoDepthwise) {
  Graph graph = import_zoo_model({}, "peak.onnx");
  run_standard_passes(graph);
  EXPECT_EQ(count_nodes(graph, OpType::BatchNormalization), 0);
  EXPECT_EQ(count_nodes(graph, OpType::Clip), 0);
  const ModelStats stats = compute_model_stats(graph);
  EXPECT_EQ(stats.macs, kMacs);
  EXPECT_EQ(stats.peak_layer_io_bytes_int8, kPeakIoBytes);
  const LayerStats* peak = nullptr;
  for (const LayerStats& layer : stats.layers) {
    if (layer.io_bytes_int8 == kPeakIoBytes) peak = &layer;
  }
  ASSERT_NE(peak, nullptr);
  EXPECT_EQ(peak->op, "Conv+Clip(0,6)");
  EXPECT_EQ(peak->input_shapes.at(0), (Dims{1, 96, 112, 112}));
  EXPECT_EQ(peak->output_shape, (Dims{1, 96, 56, 56}));
}

TEST(ZooMobileNetV2, SmallVariantImportsWithRightOutputShape) {
  const Graph graph =
      import_zoo_model({.width = 0.35f, .resolution = 64, .classes = 10, .seed = 3}, "small.onnx");
  ASSERT_EQ(graph.outputs.size(), 1u);
  const Tensor& output = graph.tensors[static_cast<size_t>(graph.outputs[0])];
  EXPECT_EQ(output.name, "output");
  EXPECT_EQ(output.shape, (Dims{1, 10}));
  EXPECT_EQ(count_nodes(graph, OpType::Conv), 52);
}

struct LogitStats {
  double mean = 0, stddev = 0;
  bool finite = true;
};

LogitStats logit_stats(const FloatTensor& logits) {
  LogitStats s;
  for (float v : logits.data) {
    s.finite = s.finite && std::isfinite(v);
    s.mean += v;
  }
  s.mean /= static_cast<double>(logits.data.size());
  for (float v : logits.data) s.stddev += (v - s.mean) * (v - s.mean);
  s.stddev = std::sqrt(s.stddev / static_cast<double>(logits.data.size()));
  return s;
}

TEST(ZooMobileNetV2, RunsInFloatEngineWithSaneLogits) {
  Graph graph = import_zoo_model({}, "run.onnx");
  run_standard_passes(graph);
  const std::vector<FloatTensor> outputs = run_graph(graph, {test_input(224)});
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].shape, (Dims{1, 1000}));
  const LogitStats s = logit_stats(outputs[0]);
  std::printf("MobileNetV2-1.0@224 seed 0 logits: mean %.4f std %.4f\n", s.mean, s.stddev);
  EXPECT_TRUE(s.finite);
  EXPECT_GT(s.stddev, 1e-3);
  EXPECT_LT(s.stddev, 10.0);
}

TEST(ZooMobileNetV2, FoldingPassesKeepTheFloatResult) {
  const Graph imported =
      import_zoo_model({.width = 0.35f, .resolution = 64, .classes = 10, .seed = 5}, "fold.onnx");
  Graph passed = imported;
  run_standard_passes(passed);
  const FloatTensor input = test_input(64);
  const FloatTensor before = run_graph(imported, {input}).at(0);
  const FloatTensor after = run_graph(passed, {input}).at(0);
  ASSERT_EQ(before.shape, after.shape);
  const LogitStats s = logit_stats(before);
  EXPECT_GT(s.stddev, 1e-3);
  for (size_t i = 0; i < before.data.size(); ++i) {
    EXPECT_NEAR(before.data[i], after.data[i], 1e-4 * (1.0 + std::abs(before.data[i]))) << i;
  }
}

}  // namespace
}  // namespace mcusplit::model
