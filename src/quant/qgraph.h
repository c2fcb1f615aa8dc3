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
#include "kernels/op_registry.h"

namespace mcusplit::quant {

struct QTensor {
  std::string name;
  core::TensorShape3 shape;  // NHWC, batch 1
  core::QuantParams quant;

  int64_t bytes() const { return int64_t{shape.c} * shape.h * shape.w; }
};

// The operator enum and names are the kernels layer's (kernels/op_type.h),
// one for every layer of the tree.
using kernels::op_type_name;
using kernels::OpType;

// The kernel parameter blocks (conv, fc, add, pool, global_pool, reshape)
// are the base: only the one of `op` is meaningful.
struct QLayer : kernels::OpParams {
  std::string name;
  OpType op = OpType::Conv;
  std::vector<int> inputs;  // QTensor indices
  int output = -1;

  // Conv and FullyConnected constants (fully connected weights [N][K]); the
  // params' pointer fields stay null until bound to these at run time.
  std::vector<int8_t> weights;
  std::vector<int32_t> bias;
  std::vector<int32_t> multiplier;  // per output channel / neuron
  std::vector<int32_t> shift;

  // Concat: one params block per input (offset_c = running channel count).
  std::vector<kernels::Int8ConcatParams> concat;

  // What the operator's record (kernels/op_registry.h) sees of this layer.
  kernels::OpLayer view() const {
    return kernels::OpLayer{op, this, concat.data(), static_cast<int32_t>(inputs.size())};
  }
  const kernels::OpRegistration& record() const { return kernels::op_registration(op); }

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

// Multiply-accumulates of the whole layer.
int64_t layer_macs(const QGraph& g, const QLayer& l);

// Converts a float NCHW input (batch 1) to the int8 NHWC input tensor.
std::vector<int8_t> quantize_input(const QGraph& g, const std::vector<float>& nchw);
// Converts the int8 NHWC output to float, in the ONNX output order (NCHW, or
// the plain vector for a {n,1,1} output).
std::vector<float> dequantize_output(const QGraph& g, const std::vector<int8_t>& nhwc);

}  // namespace mcusplit::quant
