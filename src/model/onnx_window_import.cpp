// Conv and 2-D pooling: kernel, strides and padding (auto_pad resolved).
#include <algorithm>

#include "model/onnx_attributes.h"
#include "model/onnx_op_import.h"

namespace mcusplit::model {
namespace {

std::array<int64_t, 2> two_values(const OnnxNodeContext& ctx, const std::string& name,
                                  std::array<int64_t, 2> fallback) {
  const std::vector<int64_t> values = ints_attribute(ctx, name);
  if (values.empty()) return fallback;
  if (values.size() != 2) {
    ctx.fail(name + " has " + std::to_string(values.size()) + " values; only 2-D is supported");
  }
  return {values[0], values[1]};
}

const Dims& require_4d_input(const OnnxNodeContext& ctx) {
  const Dims& shape = ctx.input_tensor(0).shape;
  if (shape.size() != 4) {
    ctx.fail("only 2-D " + ctx.op_type() + " (4-D NCHW input) is supported; input '" +
             ctx.proto().input(0) + "' has shape " + dims_to_string(shape));
  }
  return shape;
}

// Strides and explicit pads, resolving auto_pad from the input size.
Window2d import_window(const OnnxNodeContext& ctx, const Dims& input,
                       std::array<int64_t, 2> kernel) {
  Window2d w;
  w.kernel = kernel;
  w.strides = two_values(ctx, "strides", {1, 1});
  for (int i = 0; i < 2; ++i) {
    if (w.kernel[i] <= 0) ctx.fail("kernel size must be positive");
    if (w.strides[i] <= 0) ctx.fail("strides must be positive");
  }
  const std::string auto_pad = string_attribute(ctx, "auto_pad", "NOTSET");
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    const std::vector<int64_t> pads = ints_attribute(ctx, "pads");
    if (!pads.empty()) {
      if (pads.size() != 4) ctx.fail("pads needs 4 values for 2-D");
      if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; })) {
        ctx.fail("negative pads are not supported");
      }
      std::copy(pads.begin(), pads.end(), w.pads.begin());
    }
  } else if (auto_pad == "VALID") {
    w.pads = {0, 0, 0, 0};
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // Output size ceil(in / stride); the odd pad goes to the end (UPPER) or
    // the beginning (LOWER).
    for (size_t i = 0; i < 2; ++i) {
      const int64_t in = input[2 + i];
      const int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      const int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + w.kernel[i] - in);
      const int64_t small = total / 2;
      const int64_t large = total - small;
      w.pads[i] = auto_pad == "SAME_UPPER" ? small : large;
      w.pads[i + 2] = auto_pad == "SAME_UPPER" ? large : small;
    }
  } else {
    ctx.fail("unknown auto_pad '" + auto_pad + "'");
  }
  return w;
}

}  // namespace

Node import_conv(const OnnxNodeContext& ctx) {
  const Dims& input = require_4d_input(ctx);
  const Dims& weight = ctx.input_tensor(1).shape;
  if (weight.size() != 4) {
    ctx.fail("weight '" + ctx.proto().input(1) + "' has shape " + dims_to_string(weight) +
             ", expected 4-D [M, C/group, kH, kW]");
  }
  const std::array<int64_t, 2> weight_kernel{weight[2], weight[3]};
  const std::array<int64_t, 2> kernel = two_values(ctx, "kernel_shape", weight_kernel);
  if (kernel != weight_kernel) {
    ctx.fail("kernel_shape does not match the weight shape " + dims_to_string(weight));
  }
  require_all_ones(ctx, "dilations");

  Node node;
  node.op = OpType::Conv;
  node.conv.window = import_window(ctx, input, kernel);
  node.conv.group = int_attribute(ctx, "group", 1);
  if (node.conv.group <= 0) ctx.fail("group must be positive");
  node.inputs = {ctx.required_input(0), ctx.required_input(1)};
  if (ctx.input(2) >= 0) node.inputs.push_back(ctx.input(2));
  return node;
}

Node import_pool(const OnnxNodeContext& ctx, OpType op) {
  const Dims& input = require_4d_input(ctx);
  if (!has_attribute(ctx, "kernel_shape")) ctx.fail("kernel_shape is required");
  const std::array<int64_t, 2> kernel = two_values(ctx, "kernel_shape", {1, 1});
  require_all_ones(ctx, "dilations");
  if (int_attribute(ctx, "storage_order", 0) != 0) {
    ctx.fail("storage_order 1 (column major) is not supported");
  }
  if (ctx.proto().output_size() > 1 && !ctx.proto().output(1).empty()) {
    ctx.fail("the Indices output is not supported");
  }

  Node node;
  node.op = op;
  node.pool.window = import_window(ctx, input, kernel);
  node.pool.ceil_mode = int_attribute(ctx, "ceil_mode", 0) != 0;
  node.pool.count_include_pad =
      op == OpType::AveragePool && int_attribute(ctx, "count_include_pad", 0) != 0;
  node.inputs = {ctx.required_input(0)};
  return node;
}

}  // namespace mcusplit::model
