// The int8 operators, one enum for every layer of the tree: the quantized
// graph, the plan, the device program and every file format name a layer's
// operator by it. What each operator is lives in its record
// (kernels/op_registry.h). Freestanding.
#pragma once

#include <cstdint>

namespace mcusplit::kernels {

// Values are stored in the .mq, plan and device image formats: append only.
enum class OpType : uint8_t {
  Conv,            // normal, depthwise, grouped (Int8ConvParams)
  FullyConnected,  // Gemm / MatMul with constant weights
  Add,             // residual add (TFLite int8 Add)
  MaxPool,
  AveragePool,
  GlobalAveragePool,  // also ReduceMean over H and W
  Concat,             // along channels (or rows, columns)
  Reshape,            // Flatten/Reshape that keeps NHWC byte order: a copy
  Softmax,            // over channels (TFLite int8 Softmax)
  Pad,                // a constant border (TFLite PAD / PADV2 that cannot fold)
};

inline constexpr uint32_t kOpTypeCount = 10;

// True if `value` (e.g. read from a file) names an operator.
constexpr bool valid_op_type(uint32_t value) {
  return value < kOpTypeCount;
}

}  // namespace mcusplit::kernels
