// Conversion of one supported ONNX node into an IR node: attributes are read,
// validated against what the IR can express and resolved (auto_pad to pads,
// negative axes, Clip bounds, ...).
#pragma once

#include <optional>
#include <string>

#include "model/graph.h"
#include "model/onnx_node_context.h"

namespace mcusplit::model {

// The IR operator an ONNX op type maps onto, if any.
std::optional<OpType> ir_op_for(const std::string& op_type);

// The IR node for `ctx`'s node: name, op, inputs and attributes. Outputs are
// left to the caller; every IR node has exactly one, ONNX output 0. Throws
// mcusplit::Error naming the node for anything the IR cannot express.
Node import_ir_node(const OnnxNodeContext& ctx, OpType op);

// Conv, MaxPool and AveragePool (in onnx_window_import.cpp).
Node import_conv(const OnnxNodeContext& ctx);
Node import_pool(const OnnxNodeContext& ctx, OpType op);

}  // namespace mcusplit::model
