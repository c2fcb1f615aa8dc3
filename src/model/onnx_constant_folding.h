// Import-time evaluation of the shape sub-graphs exporters write (PyTorch's
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape), of Constant nodes, and
// of layout ops applied to initializers (older PyTorch exports write
// Transpose(weight) -> MatMul).
// These operators never enter the IR: their outputs become constant tensors.
#pragma once

#include <string>
#include <vector>

#include "model/float_tensor.h"
#include "model/onnx_node_context.h"

namespace mcusplit::model {

// Constant, Shape, Gather, Unsqueeze, Squeeze, Cast, Slice.
bool is_import_time_op(const std::string& op_type);

// Concat, Transpose: folded when all their inputs are constant (they are
// not IR operators otherwise).
bool folds_on_constants(const std::string& op_type);

// True when every present input of the node is a constant tensor.
bool all_inputs_constant(const OnnxNodeContext& ctx);

// Evaluates an import-time op, or a folds_on_constants op whose inputs are
// all constant.
// Returns one value per ONNX output. Throws (naming the node) when an input
// the evaluation needs is not constant.
std::vector<FloatTensor> evaluate_at_import(const OnnxNodeContext& ctx);

// Output dims of Squeeze/Unsqueeze on an input of shape `input`, for nodes
// whose data is not constant (they become a Reshape).
Dims squeeze_unsqueeze_output_dims(const OnnxNodeContext& ctx, const Dims& input);

}  // namespace mcusplit::model
