// Builds small ONNX models in code for tests: inputs, initializers, nodes with
// attributes, outputs. Header-only so any test folder can use it.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/graph.h"
#include "model/onnx_import.h"

namespace mcusplit::onnx_test {

inline onnx::TensorProto float_tensor_proto(const std::string& name,
                                            const std::vector<int64_t>& dims,
                                            const std::vector<float>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  for (float v : values) t.add_float_data(v);
  return t;
}

inline onnx::TensorProto int64_tensor_proto(const std::string& name,
                                            const std::vector<int64_t>& dims,
                                            const std::vector<int64_t>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t.add_dims(d);
  for (int64_t v : values) t.add_int64_data(v);
  return t;
}

// Chainable attribute setters on one node.
class NodeRef {
 public:
  explicit NodeRef(onnx::NodeProto* proto) : proto_(proto) {}
  NodeRef& i(const std::string& name, int64_t v) {
    auto* a = add(name, onnx::AttributeProto::INT);
    a->set_i(v);
    return *this;
  }
  NodeRef& f(const std::string& name, float v) {
    auto* a = add(name, onnx::AttributeProto::FLOAT);
    a->set_f(v);
    return *this;
  }
  NodeRef& s(const std::string& name, const std::string& v) {
    auto* a = add(name, onnx::AttributeProto::STRING);
    a->set_s(v);
    return *this;
  }
  NodeRef& ints(const std::string& name, const std::vector<int64_t>& v) {
    auto* a = add(name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
    return *this;
  }
  NodeRef& floats(const std::string& name, const std::vector<float>& v) {
    auto* a = add(name, onnx::AttributeProto::FLOATS);
    for (float x : v) a->add_floats(x);
    return *this;
  }
  NodeRef& t(const std::string& name, const onnx::TensorProto& v) {
    *add(name, onnx::AttributeProto::TENSOR)->mutable_t() = v;
    return *this;
  }
  NodeRef& domain(const std::string& d) {
    proto_->set_domain(d);
    return *this;
  }
  onnx::NodeProto& proto() { return *proto_; }

 private:
  onnx::AttributeProto* add(const std::string& name, onnx::AttributeProto::AttributeType type) {
    auto* a = proto_->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }
  onnx::NodeProto* proto_;
};

class OnnxBuilder {
 public:
  explicit OnnxBuilder(int64_t opset = 13) {
    model_.set_ir_version(7);
    model_.set_producer_name("mcusplit-tests");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  // A float input; a dim of -1 is written as the symbolic dim "N", 0 as an
  // unset dim.
  OnnxBuilder& input(const std::string& name, const std::vector<int64_t>& dims) {
    auto* vi = graph()->add_input();
    vi->set_name(name);
    auto* type = vi->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = type->mutable_shape();
    for (int64_t d : dims) {
      auto* dim = shape->add_dim();
      if (d > 0) dim->set_dim_value(d);
      if (d < 0) dim->set_dim_param("N");
    }
    return *this;
  }
  OnnxBuilder& output(const std::string& name) {
    graph()->add_output()->set_name(name);
    return *this;
  }
  OnnxBuilder& initializer(const std::string& name, const std::vector<int64_t>& dims,
                           const std::vector<float>& values) {
    *graph()->add_initializer() = float_tensor_proto(name, dims, values);
    return *this;
  }
  OnnxBuilder& int64_initializer(const std::string& name, const std::vector<int64_t>& dims,
                                 const std::vector<int64_t>& values) {
    *graph()->add_initializer() = int64_tensor_proto(name, dims, values);
    return *this;
  }
  NodeRef node(const std::string& op_type, const std::vector<std::string>& inputs,
               const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = graph()->add_node();
    n->set_op_type(op_type);
    n->set_name(name);
    for (const auto& in : inputs) n->add_input(in);
    for (const auto& out : outputs) n->add_output(out);
    return NodeRef(n);
  }

  onnx::ModelProto& model() { return model_; }
  onnx::GraphProto* graph() { return model_.mutable_graph(); }
  std::string bytes() const { return model_.SerializeAsString(); }
  model::Graph import(const std::string& origin = "test.onnx") const {
    return model::import_onnx_bytes(bytes(), origin);
  }

 private:
  onnx::ModelProto model_;
};

// The tensor called `name`; fails the test (and throws) if there is none.
inline const model::Tensor& tensor_named(const model::Graph& g, const std::string& name) {
  const int t = g.find_tensor(name);
  if (t < 0) throw std::runtime_error("no tensor '" + name + "'");
  return g.tensors[static_cast<size_t>(t)];
}

// Deterministic, varied test values.
inline std::vector<float> ramp(size_t n, float scale = 0.1f, float offset = -0.5f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = offset + scale * static_cast<float>((i * 7) % 13);
  return v;
}

}  // namespace mcusplit::onnx_test
