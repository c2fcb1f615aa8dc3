// Calibration: range recording (min/max and percentiles), the three input
// sources, a run over a small MobileNetV2, and the bad-input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "model/error_matchers.h"
#include "quant/calibration.h"
#include "quant/quant_test_models.h"
#include "quant/range_recorder.h"

namespace mcusplit::quant {
namespace {

namespace fs = std::filesystem;
using onnx_test::expect_error;
using quant_test::temp_file;

const std::string kImages = std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images";
const std::string kFashionImages = std::string(FASHION_MNIST_DIR) + "/t10k-images-idx3-ubyte.gz";

CalibrationInputOptions seeded(uint64_t seed) {
  CalibrationInputOptions o;
  o.seed = seed;
  return o;
}

int exit_code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.exit_code();
  }
  return 0;
}

// A scratch folder, removed at the end of the test.
struct Folder {
  explicit Folder(const std::string& name) : path(temp_file(name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Folder() { fs::remove_all(path); }
  std::string path;
};

TEST(RangeRecorder, ExactMinMaxOverSeveralRecords) {
  RangeRecorder r;
  const std::vector<float> a{1.0f, -2.0f, 3.0f};
  const std::vector<float> b{0.5f, 7.0f};
  r.record(a.data(), a.size());
  r.record(b.data(), b.size());
  EXPECT_EQ(r.range().min, -2.0f);
  EXPECT_EQ(r.range().max, 7.0f);
  EXPECT_FALSE(RangeRecorder().range().recorded());
}

TEST(RangeRecorder, PercentileClipsBothTailsWithinABin) {
  RangeRecorder r(99.0);
  // 0..9999 recorded in growing chunks so the histogram has to widen.
  std::vector<float> v;
  for (int i = 0; i < 10000; ++i) v.push_back(static_cast<float>(i));
  for (size_t begin = 0; begin < v.size(); begin += 1000) r.record(v.data() + begin, 1000);
  const TensorRange p = r.range();
  const float bin = 2.0f * 16384.0f / RangeRecorder::kBins;
  EXPECT_NEAR(p.min, 100.0f, bin);
  EXPECT_NEAR(p.max, 9900.0f, bin);
  EXPECT_EQ(r.exact_range().min, 0.0f);
  EXPECT_EQ(r.exact_range().max, 9999.0f);

  // A single outlier among many small values is dropped entirely.
  RangeRecorder o(99.9);
  std::vector<float> w(100000, 0.0f);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 100) / 100.0f;
  w[5] = 1000.0f;
  o.record(w.data(), w.size());
  EXPECT_LT(o.range().max, 1.1f);
  EXPECT_EQ(o.exact_range().max, 1000.0f);
}

TEST(CalibrationSource, RandomIsSeededStandardNormal) {
  const model::Dims shape{1, 3, 16, 16};
  auto a = open_calibration_source("random", shape, seeded(5));
  auto b = open_calibration_source("random", shape, seeded(5));
  auto c = open_calibration_source("random", shape, seeded(6));
  const auto ta = a->next();
  ASSERT_TRUE(ta);
  EXPECT_EQ(ta->shape, shape);
  EXPECT_EQ(ta->data, b->next()->data);
  EXPECT_NE(ta->data, c->next()->data);
  double sum = 0.0;
  double squares = 0.0;
  int64_t n = 0;
  for (int i = 0; i < 20; ++i) {
    const model::FloatTensor t = *a->next();
    for (float v : t.data) {
      sum += v;
      squares += static_cast<double>(v) * v;
      ++n;
    }
  }
  EXPECT_NEAR(sum / static_cast<double>(n), 0.0, 0.05);
  EXPECT_NEAR(std::sqrt(squares / static_cast<double>(n)), 1.0, 0.05);
  EXPECT_NE(a->description().find("seed 5"), std::string::npos);
}

TEST(CalibrationSource, FolderReadsImagesInNameOrderAndSkipsOthers) {
  Folder folder("mixed");
  for (const auto& e : fs::directory_iterator(kImages)) {
    fs::copy_file(e.path(), folder.path + "/" + e.path().filename().string());
  }
  std::ofstream(folder.path + "/aaa_notes.txt") << "not an image";
  std::ofstream(folder.path + "/zzz_broken.png") << "\x89PNG but not really";
  auto source = open_calibration_source(folder.path, {1, 1, 28, 28}, {});
  int images = 0;
  while (source->next()) ++images;
  EXPECT_EQ(images, 4);
  EXPECT_EQ(source->skipped(), 2);
}

TEST(CalibrationSource, IdxFileFeedsMatchingInputsOnly) {
  auto source = open_calibration_source(kFashionImages, {1, 1, 28, 28}, {});
  const auto first = source->next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->shape, (model::Dims{1, 1, 28, 28}));
  // Corner pixels of Fashion-MNIST are black: (0 - mean) / std.
  EXPECT_NEAR(first->data[0], -0.2860f / 0.3530f, 1e-6f);
  expect_error(
      [] {
        open_calibration_source(kFashionImages, {1, 1, 32, 32}, {});
      },
      {"28x28", "[1, 1, 32, 32]"});
  expect_error([] { open_calibration_source(kFashionImages, {1, 10}, {}); }, {"[1, 10]", "random"});
  expect_error(
      [] {
        open_calibration_source(temp_file("nowhere"), {1, 1, 28, 28}, {});
      },
      {"does not exist"});
}

TEST(Calibration, SmallMobileNetV2WithRandomInputs) {
  const model::Graph g = quant_test::small_mobilenetv2();
  auto source = open_calibration_source("random", g.tensors[static_cast<size_t>(g.inputs[0])].shape,
                                        seeded(1));
  std::vector<int64_t> progress;
  CalibrationOptions options;
  options.samples = 4;
  options.progress = [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 4);
    progress.push_back(done);
  };
  const Calibration c = calibrate(g, *source, options);
  EXPECT_EQ(c.samples, 4);
  EXPECT_EQ(progress, (std::vector<int64_t>{1, 2, 3, 4}));
  ASSERT_EQ(c.ranges.size(), g.tensors.size());
  EXPECT_TRUE(c.ranges[static_cast<size_t>(g.inputs[0])].recorded());
  for (const model::Node& n : g.nodes) {
    const TensorRange& r = c.ranges[static_cast<size_t>(n.outputs[0])];
    ASSERT_TRUE(r.recorded()) << n.name;
    EXPECT_LT(r.min, r.max) << n.name;
    if (n.activation.kind == model::FusedActivation::Kind::Clip) {
      EXPECT_GE(r.min, 0.0f) << n.name;
      EXPECT_LE(r.max, 6.0f) << n.name;
    }
  }
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].is_constant) {
      EXPECT_FALSE(c.ranges[t].recorded());
    }
  }

  // Percentile ranges lie inside the min/max ones.
  auto again = open_calibration_source("random", g.tensors[static_cast<size_t>(g.inputs[0])].shape,
                                       seeded(1));
  options.percentile = 99.9;
  options.progress = {};
  const Calibration p = calibrate(g, *again, options);
  for (const model::Node& n : g.nodes) {
    const auto t = static_cast<size_t>(n.outputs[0]);
    EXPECT_GE(p.ranges[t].min, c.ranges[t].min) << n.name;
    EXPECT_LE(p.ranges[t].max, c.ranges[t].max) << n.name;
  }
}

TEST(Calibration, FolderWithoutUsableImagesIsBadInput) {
  const model::Graph g = quant_test::small_mobilenetv2();
  const model::Dims shape = g.tensors[static_cast<size_t>(g.inputs[0])].shape;
  Folder empty("empty");
  auto none = open_calibration_source(empty.path, shape, {});
  expect_error([&] { calibrate(g, *none, {}); }, {"no usable input", "0 files skipped"});
  EXPECT_EQ(exit_code_of([&] { calibrate(g, *none, {}); }), kExitBadInput);

  Folder junk("junk");
  for (int i = 0; i < 3; ++i)
    std::ofstream(junk.path + "/f" + std::to_string(i) + ".jpg") << "junk";
  auto bad = open_calibration_source(junk.path, shape, {});
  expect_error([&] { calibrate(g, *bad, {}); }, {"no usable input", "3 files skipped"});
}

TEST(Calibration, ConstantTensorIsBadInputNamingIt) {
  // A Conv with all-zero weights and bias makes an all-zero tensor.
  onnx_test::OnnxBuilder b;
  b.input("x", {1, 2, 4, 4})
      .initializer("w", {3, 2, 1, 1}, std::vector<float>(6, 0.0f))
      .initializer("w2", {3, 3, 1, 1}, onnx_test::ramp(9))
      .output("y");
  b.node("Conv", {"x", "w"}, {"dead"}, "zero_conv");
  b.node("Conv", {"dead", "w2"}, {"y"}, "next_conv");
  const model::Graph g = quant_test::prepared(b);
  auto source = open_calibration_source("random", {1, 2, 4, 4}, {});
  CalibrationOptions options;
  options.samples = 3;
  expect_error([&] { calibrate(g, *source, options); }, {"'dead'", "constant", "3 calibration"});
  EXPECT_EQ(exit_code_of([&] { calibrate(g, *source, options); }), kExitBadInput);
}

TEST(Calibration, RejectsBadOptionsAndGraphs) {
  const model::Graph g = quant_test::small_mobilenetv2();
  auto source = open_calibration_source("random", {1, 3, 32, 32}, {});
  CalibrationOptions zero;
  zero.samples = 0;
  expect_error([&] { calibrate(g, *source, zero); }, {"at least 1"});
  CalibrationOptions pct;
  pct.percentile = 0.0;
  expect_error([&] { calibrate(g, *source, pct); }, {"percentile"});

  onnx_test::OnnxBuilder two;
  two.input("x", {1, 2, 4, 4}).output("a").output("b");
  two.node("Relu", {"x"}, {"a"});
  two.node("Relu", {"a"}, {"b"});
  expect_error([&] { calibrate(quant_test::prepared(two), *source, {}); },
               {"one input and one output"});
}

}  // namespace
}  // namespace mcusplit::quant
