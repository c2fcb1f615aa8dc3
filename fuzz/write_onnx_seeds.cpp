// Writes the hand-built ONNX seeds of fuzz/corpus/onnx: three tiny models
// that import (weights as initializers, which the ONNX node tests in
// libonnx-testdata lack), together using every operator the importer maps
// and a folded shape sub-graph, so that mutations start from deep inside
// the importer. Each is imported here before it is written: a seed that
// no longer imports fails this program. Usage: write_onnx_seeds DIR
#include <onnx/onnx_pb.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "model/onnx_import.h"
#include "model/onnx_writer.h"

namespace {

using Dims = std::vector<int64_t>;

class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset) {
    model_.set_ir_version(7);
    model_.add_opset_import()->set_version(opset);
    model_.mutable_graph()->set_name("seed");
  }

  void input(const std::string& name, const Dims& dims) {
    value_info(model_.mutable_graph()->add_input(), name, dims);
  }
  void output(const std::string& name) { model_.mutable_graph()->add_output()->set_name(name); }
  // Small deterministic values, so the seeds never change; `fill` instead
  // where the value matters (a variance, a bound).
  void floats(const std::string& name, const Dims& dims, const float* fill = nullptr) {
    onnx::TensorProto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    for (int64_t i = 0; i < n; ++i) {
      t->add_float_data(fill != nullptr ? *fill : static_cast<float>(i % 7 - 3) / 8.0f);
    }
  }
  void ints(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    onnx::NodeProto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(model_.graph().node_size()));
    for (const std::string& i : inputs) n->add_input(i);
    for (const std::string& o : outputs) n->add_output(o);
    return n;
  }
  const onnx::ModelProto& model() const { return model_; }

 private:
  static void value_info(onnx::ValueInfoProto* info, const std::string& name, const Dims& dims) {
    info->set_name(name);
    auto* type = info->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) type->mutable_shape()->add_dim()->set_dim_value(d);
  }
  onnx::ModelProto model_;
};

void ints_attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
void int_attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

// Conv, Relu, MaxPool, Flatten, Gemm: a classifier's skeleton.
onnx::ModelProto conv_pool_gemm() {
  ModelBuilder b(13);
  b.input("x", {1, 2, 6, 6});
  b.floats("w", {4, 2, 3, 3});
  b.floats("bias", {4});
  ints_attr(b.node("Conv", {"x", "w", "bias"}, {"c"}), "pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"});
  auto* pool = b.node("MaxPool", {"r"}, {"p"});
  ints_attr(pool, "kernel_shape", {2, 2});
  ints_attr(pool, "strides", {2, 2});
  b.node("Flatten", {"p"}, {"f"});
  b.floats("fc", {4, 36});
  b.floats("fc_bias", {4});
  int_attr(b.node("Gemm", {"f", "fc", "fc_bias"}, {"y"}), "transB", 1);
  b.output("y");
  return b.model();
}

// BatchNormalization, Clip, Add, GlobalAveragePool, and a Reshape whose shape
// a Shape/Gather/Unsqueeze/Concat sub-graph computes (folded at import).
onnx::ModelProto shape_subgraph() {
  ModelBuilder b(11);
  b.input("x", {1, 2, 4, 4});
  b.floats("w", {2, 2, 1, 1});
  b.node("Conv", {"x", "w"}, {"c"});
  for (const char* name : {"scale", "shift", "mean"}) b.floats(name, {2});
  const float one = 1.0f, six = 6.0f, zero = 0.0f;
  b.floats("var", {2}, &one);
  b.node("BatchNormalization", {"c", "scale", "shift", "mean", "var"}, {"n"});
  b.floats("lo", {}, &zero);
  b.floats("hi", {}, &six);
  b.node("Clip", {"n", "lo", "hi"}, {"k"});
  b.node("Add", {"k", "x"}, {"a"});
  b.node("GlobalAveragePool", {"a"}, {"g"});
  b.node("Shape", {"g"}, {"s"});
  b.ints("zero", {0});
  b.node("Gather", {"s", "zero"}, {"batch"});
  b.ints("minus_one", {-1});
  int_attr(b.node("Concat", {"batch", "minus_one"}, {"target"}), "axis", 0);
  b.node("Reshape", {"g", "target"}, {"y"});
  b.output("y");
  return b.model();
}

// AveragePool, Concat, ReduceMean, MatMul, Dropout, Identity.
onnx::ModelProto pools_concat_matmul() {
  ModelBuilder b(12);
  b.input("x", {1, 2, 4, 4});
  auto* avg = b.node("AveragePool", {"x"}, {"avg"});
  ints_attr(avg, "kernel_shape", {3, 3});
  ints_attr(avg, "pads", {1, 1, 1, 1});
  auto* max = b.node("MaxPool", {"x"}, {"max"});
  ints_attr(max, "kernel_shape", {1, 1});
  int_attr(b.node("Concat", {"avg", "max"}, {"cat"}), "axis", 1);
  auto* mean = b.node("ReduceMean", {"cat"}, {"m"});
  ints_attr(mean, "axes", {2, 3});
  int_attr(mean, "keepdims", 0);
  b.floats("w", {4, 3});
  b.node("MatMul", {"m", "w"}, {"mm"});
  b.node("Dropout", {"mm"}, {"d"});
  b.node("Identity", {"d"}, {"y"});
  b.output("y");
  return b.model();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_onnx_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::pair<const char*, onnx::ModelProto> seeds[] = {
      {"conv_pool_gemm.onnx", conv_pool_gemm()},
      {"shape_subgraph.onnx", shape_subgraph()},
      {"pools_concat_matmul.onnx", pools_concat_matmul()},
  };
  try {
    for (const auto& [name, model] : seeds) {
      const mcusplit::model::Graph g = mcusplit::model::import_onnx_model(model, name);
      mcusplit::model::write_onnx_file(model, dir + "/" + name);
      std::printf("wrote %s/%s (%zu nodes imported)\n", dir.c_str(), name, g.nodes.size());
    }
  } catch (const mcusplit::Error& e) {
    std::fprintf(stderr, "write_onnx_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
