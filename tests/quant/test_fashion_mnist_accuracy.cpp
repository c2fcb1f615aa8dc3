// The trained Fashion-MNIST model (tools/train_fashion_mnist.py) on the full
// 10,000-image test set: float accuracy, int8 accuracy after post-training
// quantization calibrated on training images, and their top-1 agreement.
#include <gtest/gtest.h>

#include <cstdio>

#include "model/idx_dataset.h"
#include "model/onnx_import.h"
#include "model/passes.h"
#include "quant/accuracy.h"
#include "quant/calibration.h"
#include "quant/quantizer.h"

namespace mcusplit::quant {
namespace {

const std::string kModel = std::string(MCUSPLIT_SOURCE_DIR) + "/models/fashion_mnist_mbv2.onnx";
const std::string kData = FASHION_MNIST_DIR;

TEST(FashionMnistAccuracy, FloatAndInt8OnTheFullTestSet) {
  model::Graph g = model::import_onnx_file(kModel);
  model::run_standard_passes(g);
  const auto& input_shape = g.tensors[static_cast<size_t>(g.inputs[0])].shape;

  // Calibrate on training images, as `mcusplit quantize --calib
  // train-images-idx3-ubyte.gz --samples 200` does; evaluate on test images.
  auto source = open_calibration_source(kData + "/train-images-idx3-ubyte.gz", input_shape, {});
  CalibrationOptions options;
  options.samples = 200;
  const Calibration calibration = calibrate(g, *source, options);
  const QGraph q = quantize_graph(g, calibration.ranges, "fashion_mnist_mbv2.onnx");

  const auto images = model::read_idx_images(kData + "/t10k-images-idx3-ubyte.gz");
  const auto labels = model::read_idx_labels(kData + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_EQ(images.count, 10000);
  const AccuracyResult fp = evaluate_float(g, images, labels, {});
  const AccuracyResult i8 = evaluate_int8(q, images, labels, {});
  const double agreement = top1_agreement(fp, i8);
  std::printf("fashion-mnist: float %.2f%%, int8 %.2f%%, top-1 agreement %.2f%% (%lld images)\n",
              100.0 * fp.accuracy(), 100.0 * i8.accuracy(), 100.0 * agreement,
              static_cast<long long>(fp.count));

  EXPECT_EQ(fp.count, 10000);
  EXPECT_EQ(i8.count, 10000);
  EXPECT_GE(fp.accuracy(), 0.90);
  EXPECT_LE(fp.accuracy() - i8.accuracy(), 0.01);
  EXPECT_LE(i8.accuracy() - fp.accuracy(), 0.01);
  EXPECT_GE(agreement, 0.98);
}

}  // namespace
}  // namespace mcusplit::quant
