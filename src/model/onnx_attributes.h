// Typed access to the attributes of an ONNX node. A present attribute of the
// wrong type is an error naming the node; an absent one gives the default.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "model/onnx_node_context.h"

namespace mcusplit::model {

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name);
bool has_attribute(const OnnxNodeContext& ctx, const std::string& name);

int64_t int_attribute(const OnnxNodeContext& ctx, const std::string& name, int64_t fallback);
float float_attribute(const OnnxNodeContext& ctx, const std::string& name, float fallback);
std::string string_attribute(const OnnxNodeContext& ctx, const std::string& name,
                             const std::string& fallback);
std::vector<int64_t> ints_attribute(const OnnxNodeContext& ctx, const std::string& name,
                                    const std::vector<int64_t>& fallback = {});
std::vector<float> floats_attribute(const OnnxNodeContext& ctx, const std::string& name);
// The `value` of a tensor attribute; throws when absent.
const onnx::TensorProto& tensor_attribute(const OnnxNodeContext& ctx, const std::string& name);

// Throws unless the ints attribute `name` is absent or all ones (dilations).
void require_all_ones(const OnnxNodeContext& ctx, const std::string& name);

}  // namespace mcusplit::model
