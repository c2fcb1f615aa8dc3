// Post-training int8 quantization (TFLite int8 spec): a float graph plus the
// calibrated ranges of its activations become a QGraph.
//
//  - activations: per tensor, asymmetric; the range always includes 0;
//    scale = (max - min) / 255, zero_point = round(-128 - min / scale).
//  - Conv / FullyConnected weights: per output channel, symmetric,
//    scale = max|w| / 127, zero point 0, values in [-127, 127];
//    bias int32 = round(b / (in_scale * w_scale)); requantization per channel
//    by core::quantize_multiplier(in_scale * w_scale / out_scale).
//  - fused Relu/Clip: the output clamp (core::quantized_activation_range).
//  - MaxPool, AveragePool and Reshape outputs take their input's parameters
//    (the kernels do not rescale); GlobalAveragePool, Add and Concat rescale
//    to the calibrated output range.
//  - Flatten of [1,C,H,W] with H*W > 1 and C > 1 (NHWC byte order differs
//    from ONNX's CHW order): allowed only when it feeds Gemm/MatMul directly;
//    it becomes a Reshape (a copy of the NHWC bytes) and the fully connected
//    weight columns are permuted from CHW to HWC order, so no transpose runs.
// See docs/mq_format.md for how the result is stored.
#pragma once

#include <string>
#include <vector>

#include "core/quant_params.h"
#include "model/graph.h"
#include "quant/qgraph.h"
#include "quant/tensor_range.h"

namespace mcusplit::quant {

// `graph` has had model::run_standard_passes; `ranges` is indexed like
// graph.tensors (Calibration::ranges) and covers the input and every node
// output. Throws mcusplit::Error (exit code 2) naming the node for anything
// int8 cannot express: more than one input or output, batch > 1, an operator
// or attribute the int8 kernels lack (Conv with non-constant weights, Add
// with broadcasting or a constant operand, a Relu that was not folded, ...),
// or a tensor without a usable range.
QGraph quantize_graph(const model::Graph& graph, const std::vector<TensorRange>& ranges,
                      const std::string& source_model);

// Activation parameters for a calibrated range. Throws mcusplit::Error if the
// range (with 0 included) is empty or not finite.
core::QuantParams activation_quant_params(const TensorRange& range, const std::string& tensor_name);

}  // namespace mcusplit::quant
