// int8 graph IR: what the quantizer produces, the .mq file holds, the
// single-device executor runs and the planner partitions.
//
// Activations are NHWC, batch 1, int8 asymmetric per tensor (TFLite int8
// spec). Every tensor is a box-able {c, h, w}; a 1-D vector (fully connected
// input/output) is {n, 1, 1}. Each layer owns its constant data (weights,
// bias, requantization arrays) and the integer parameters its kernel needs,
// so a layer turns into kernel params without any float math at run time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/box.h"
#include "core/quant_params.h"
#include "kernels/int8_add.h"
#include "kernels/int8_concat.h"
#include "kernels/int8_conv.h"
#include "kernels/int8_fully_connected.h"
#include "kernels/int8_global_average_pool.h"
#include "kernels/int8_pool.h"

namespace mcusplit::quant {

struct QTensor {
  std::string name;
  core::TensorShape3 shape;  // NHWC, batch 1
  core::QuantParams quant;

  int64_t bytes() const { return int64_t{shape.c} * shape.h * shape.w; }
};

enum class QOpType : uint8_t {
  Conv,            // normal, depthwise, grouped (kernels::Int8ConvParams)
  FullyConnected,  // Gemm / MatMul with constant weights
  Add,             // residual add (TFLite int8 Add)
  MaxPool,
  AveragePool,
  GlobalAveragePool,  // also ReduceMean over H and W
  Concat,             // along channels
  Reshape,            // Flatten/Reshape that keeps NHWC byte order: a copy
};

const char* qop_type_name(QOpType op);

struct QLayer {
  std::string name;
  QOpType op = QOpType::Conv;
  std::vector<int> inputs;  // QTensor indices
  int output = -1;

  // Conv: params with the pointer fields left null (bound at run time to the
  // vectors below, which hold all output channels).
  kernels::Int8ConvParams conv;
  // FullyConnected: same convention (weights [N][K]).
  kernels::Int8FullyConnectedParams fc;
  std::vector<int8_t> weights;
  std::vector<int32_t> bias;
  std::vector<int32_t> multiplier;  // per output channel / neuron
  std::vector<int32_t> shift;

  kernels::Int8AddParams add;
  kernels::Int8PoolParams pool;  // MaxPool, AveragePool
  kernels::Int8GlobalAveragePoolParams global_pool;
  // Concat: one params block per input (offset_c = running channel count).
  std::vector<kernels::Int8ConcatParams> concat;

  int64_t macs() const;
  // Bytes of constant data (weights, bias, requantization) this layer keeps
  // in flash.
  int64_t constant_bytes() const;
};

struct QGraph {
  std::vector<QTensor> tensors;
  std::vector<QLayer> layers;  // topological order
  int input = -1;              // one graph input
  int output = -1;             // one graph output

  // How a float input becomes the int8 input tensor: q = round(x / scale) +
  // zero_point, with the float input laid out NCHW as the ONNX model has it.
  // Also how the int8 output maps back to float (tensors[output].quant).
  std::string source_model;  // file name the model was quantized from
};

// Converts a float NCHW input (batch 1) to the int8 NHWC input tensor.
std::vector<int8_t> quantize_input(const QGraph& g, const std::vector<float>& nchw);
// An int8 tensor of `shape` from NHWC to ONNX's NCHW order (the plain vector
// for a {n,1,1} shape).
std::vector<int8_t> nhwc_to_nchw(const core::TensorShape3& shape, const std::vector<int8_t>& nhwc);
// Converts the int8 NHWC output to float, in the ONNX output order (NCHW, or
// the plain vector for a {n,1,1} output).
std::vector<float> dequantize_output(const QGraph& g, const std::vector<int8_t>& nhwc);

}  // namespace mcusplit::quant
