#include "model/onnx_attributes.h"

#include <algorithm>

namespace mcusplit::model {
namespace {

const onnx::AttributeProto* typed_attribute(const OnnxNodeContext& ctx, const std::string& name,
                                            onnx::AttributeProto::AttributeType type) {
  const onnx::AttributeProto* attr = find_attribute(ctx.proto(), name);
  if (!attr) return nullptr;
  // Producers before IR version 3 left `type` unset; trust the filled field.
  if (attr->type() != onnx::AttributeProto::UNDEFINED && attr->type() != type) {
    ctx.fail("attribute '" + name + "' has type " +
             onnx::AttributeProto::AttributeType_Name(attr->type()) + ", expected " +
             onnx::AttributeProto::AttributeType_Name(type));
  }
  return attr;
}

}  // namespace

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& attr : node.attribute()) {
    if (attr.name() == name) return &attr;
  }
  return nullptr;
}

bool has_attribute(const OnnxNodeContext& ctx, const std::string& name) {
  return find_attribute(ctx.proto(), name) != nullptr;
}

int64_t int_attribute(const OnnxNodeContext& ctx, const std::string& name, int64_t fallback) {
  const auto* attr = typed_attribute(ctx, name, onnx::AttributeProto::INT);
  return attr ? attr->i() : fallback;
}

float float_attribute(const OnnxNodeContext& ctx, const std::string& name, float fallback) {
  const auto* attr = typed_attribute(ctx, name, onnx::AttributeProto::FLOAT);
  return attr ? attr->f() : fallback;
}

std::string string_attribute(const OnnxNodeContext& ctx, const std::string& name,
                             const std::string& fallback) {
  const auto* attr = typed_attribute(ctx, name, onnx::AttributeProto::STRING);
  return attr ? attr->s() : fallback;
}

std::vector<int64_t> ints_attribute(const OnnxNodeContext& ctx, const std::string& name,
                                    const std::vector<int64_t>& fallback) {
  const auto* attr = typed_attribute(ctx, name, onnx::AttributeProto::INTS);
  if (!attr) return fallback;
  return {attr->ints().begin(), attr->ints().end()};
}

std::vector<float> floats_attribute(const OnnxNodeContext& ctx, const std::string& name) {
  const auto* attr = typed_attribute(ctx, name, onnx::AttributeProto::FLOATS);
  if (!attr) return {};
  return {attr->floats().begin(), attr->floats().end()};
}

const onnx::TensorProto& tensor_attribute(const OnnxNodeContext& ctx, const std::string& name) {
  const auto* attr = typed_attribute(ctx, name, onnx::AttributeProto::TENSOR);
  if (!attr) ctx.fail("attribute '" + name + "' is required");
  return attr->t();
}

void require_all_ones(const OnnxNodeContext& ctx, const std::string& name) {
  const std::vector<int64_t> values = ints_attribute(ctx, name);
  if (std::any_of(values.begin(), values.end(), [](int64_t v) { return v != 1; })) {
    std::string list;
    for (int64_t v : values) {
      if (!list.empty()) list += ',';
      list += std::to_string(v);
    }
    ctx.fail(name + " [" + list + "] are not supported (only 1)");
  }
}

}  // namespace mcusplit::model
