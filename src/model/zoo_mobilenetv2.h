// Model zoo: torchvision's MobileNetV2 as an ONNX model with seeded weights.
//
// The graph is what torch.onnx.export (opset 13, eval mode, no BN fusion)
// writes for torchvision.models.mobilenet_v2: Conv without bias, unfolded
// BatchNormalization, Clip(0, 6) with min/max initializers, residual Add,
// GlobalAveragePool, Flatten, Gemm(transB=1); no Dropout (eval mode).
// Tensor and node names follow torchvision's module paths
// ("features.2.conv.1.0.weight", "/features/features.2/conv/conv.1/conv.1.0/Conv").
// Weights are random but deterministic, scaled so activations stay in a sane
// range through all 53 layers; they are not trained.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>

namespace mcusplit::model {

struct MobileNetV2Options {
  float width = 1.0f;    // channel multiplier, (0, 4]
  int resolution = 224;  // input height and width, [32, 2048]
  int classes = 1000;    // [1, 100000]
  uint64_t seed = 0;     // same seed, same bytes
};

// Throws mcusplit::Error naming the bad option.
void validate_mobilenetv2_options(const MobileNetV2Options& options);

// torchvision's _make_divisible: rounds `value` to the nearest multiple of
// `divisor` (at least `divisor`), going up one step if that lost over 10%.
int64_t make_divisible(double value, int64_t divisor);

// Input "input" [1, 3, R, R] float, output "output" [1, classes].
// Throws mcusplit::Error on invalid options.
onnx::ModelProto make_mobilenetv2(const MobileNetV2Options& options);

}  // namespace mcusplit::model
