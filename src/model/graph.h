// Graph IR: tensors and operators with static shapes, as imported from ONNX.
// Float activations are laid out as ONNX has them (NCHW); the int8 path
// converts to NHWC when it quantizes.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace mcusplit::model {

using Dims = std::vector<int64_t>;

// Number of elements of a tensor with these dims (1 for a scalar).
int64_t element_count(const Dims& dims);

// "[1, 3, 224, 224]"
std::string dims_to_string(const Dims& dims);

struct Tensor {
  std::string name;
  Dims shape;
  // Values of a constant (initializer, Constant node or folded result).
  std::vector<float> data;
  bool is_constant = false;
};

enum class OpType {
  Conv,
  BatchNormalization,
  Relu,
  Clip,
  Add,
  GlobalAveragePool,
  ReduceMean,
  AveragePool,
  MaxPool,
  Gemm,
  MatMul,
  Flatten,
  Reshape,
  Concat,
  Identity,
  Dropout,
};

std::string_view op_type_name(OpType op);

// An activation folded into the operator that produces its input.
struct FusedActivation {
  enum class Kind { None, Relu, Clip };
  Kind kind = Kind::None;
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();

  bool is_none() const { return kind == Kind::None; }
  float apply(float v) const {
    if (kind == Kind::None) return v;
    return v < min ? min : (v > max ? max : v);
  }
};

// 2-D window geometry shared by Conv and the pools. Pads follow ONNX order:
// {top, left, bottom, right}. auto_pad is resolved to explicit pads at import.
struct Window2d {
  std::array<int64_t, 2> kernel{1, 1};
  std::array<int64_t, 2> strides{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0};
};

struct ConvAttrs {
  Window2d window;
  int64_t group = 1;
};

struct PoolAttrs {
  Window2d window;
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool only
};

struct GemmAttrs {
  float alpha = 1.0f;
  float beta = 1.0f;
  bool trans_a = false;
  bool trans_b = false;
};

struct BatchNormAttrs {
  float epsilon = 1e-5f;
};

struct ClipAttrs {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

struct AxisAttrs {
  int64_t axis = 1;  // Flatten and Concat; negative values resolved at import
};

struct ReduceAttrs {
  std::vector<int64_t> axes;  // resolved to non-negative at import
  bool keepdims = true;
};

struct Node {
  std::string name;
  OpType op = OpType::Identity;
  std::vector<int> inputs;   // tensor indices; -1 marks an omitted optional input
  std::vector<int> outputs;  // tensor indices

  // Only the attributes of `op` are meaningful.
  ConvAttrs conv;
  PoolAttrs pool;
  GemmAttrs gemm;
  BatchNormAttrs batch_norm;
  ClipAttrs clip;
  AxisAttrs axis;
  ReduceAttrs reduce;

  // Set by the activation-folding pass on Conv, Gemm, MatMul and Add.
  FusedActivation activation;
};

struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;  // topological order
  std::vector<int> inputs;  // non-constant graph inputs, in ONNX order
  std::vector<int> outputs;
  int64_t opset = 0;

  int add_tensor(Tensor tensor);
  // Index of the tensor with this name, or -1.
  int find_tensor(std::string_view name) const;

  // Index of the node producing tensor `t`, or -1 for graph inputs and constants.
  int producer_of(int t) const;
  // Indices of nodes reading tensor `t`.
  std::vector<int> consumers_of(int t) const;
  bool is_graph_output(int t) const;

  // Drops tensors no node or graph input/output refers to, renumbering the rest.
  void remove_unused_tensors();
};

}  // namespace mcusplit::model
