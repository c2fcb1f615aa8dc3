#include "model/onnx_node_context.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"

namespace mcusplit::model {

std::string OnnxNodeContext::display_name() const {
  if (!proto_.name().empty()) return proto_.name();
  // Built with append: GCC 12 warns falsely (-Wrestrict) on "#" + std::string.
  std::string name = "#";
  name.append(std::to_string(index_));
  return name;
}

std::string OnnxNodeContext::label() const {
  std::string label = "node ";
  if (proto_.name().empty()) {
    label.append(display_name());
  } else {
    label.append("'").append(proto_.name()).append("'");
  }
  label.append(" (").append(proto_.op_type()).append(", opset ").append(std::to_string(opset_));
  return label.append(")");
}

void OnnxNodeContext::fail(const std::string& what) const {
  throw Error(label() + ": " + what);
}

int OnnxNodeContext::input(size_t i) const {
  if (i >= input_count()) return -1;
  const std::string& name = proto_.input(static_cast<int>(i));
  if (name.empty()) return -1;
  const int t = graph_.find_tensor(name);
  if (t < 0) fail("input '" + name + "' is not produced by any earlier node, initializer or input");
  return t;
}

int OnnxNodeContext::required_input(size_t i) const {
  const int t = input(i);
  if (t < 0) fail("input " + std::to_string(i) + " is required");
  return t;
}

const Tensor& OnnxNodeContext::input_tensor(size_t i) const {
  return graph_.tensors[static_cast<size_t>(required_input(i))];
}

const Tensor* OnnxNodeContext::constant_input(size_t i) const {
  const int t = input(i);
  if (t < 0) return nullptr;
  const Tensor& tensor = graph_.tensors[static_cast<size_t>(t)];
  return tensor.is_constant ? &tensor : nullptr;
}

const Tensor& OnnxNodeContext::required_constant_input(size_t i, const std::string& role) const {
  required_input(i);
  const Tensor* tensor = constant_input(i);
  if (!tensor) {
    fail(role + " (input '" + proto_.input(static_cast<int>(i)) +
         "') must be a constant or computable at import time");
  }
  return *tensor;
}

bool OnnxNodeContext::output_is_used(size_t i) const {
  if (i >= static_cast<size_t>(proto_.output_size())) return false;
  const std::string& name = proto_.output(static_cast<int>(i));
  if (name.empty() || !used_names_) return false;
  return std::binary_search(used_names_->begin(), used_names_->end(), name);
}

std::vector<int64_t> tensor_to_int64s(const Tensor& tensor) {
  std::vector<int64_t> out;
  out.reserve(tensor.data.size());
  for (float v : tensor.data) {
    // int64 data went through float; clamp sentinels such as INT64_MAX.
    if (std::isnan(v)) {
      out.push_back(0);
    } else if (v >= 9.2e18f) {
      out.push_back(std::numeric_limits<int64_t>::max());
    } else if (v <= -9.2e18f) {
      out.push_back(std::numeric_limits<int64_t>::min());
    } else {
      out.push_back(static_cast<int64_t>(v));
    }
  }
  return out;
}

}  // namespace mcusplit::model
