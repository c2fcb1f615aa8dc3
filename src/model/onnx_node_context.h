// What the importer knows while it converts one ONNX node: the node, its
// position and the graph built so far. Gives every error the same prefix.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "model/float_tensor.h"
#include "model/graph.h"

namespace mcusplit::model {

class OnnxNodeContext {
 public:
  OnnxNodeContext(Graph& graph, const onnx::NodeProto& proto, int index, int64_t opset)
      : graph_(graph), proto_(proto), index_(index), opset_(opset) {}

  Graph& graph() const { return graph_; }
  const onnx::NodeProto& proto() const { return proto_; }
  int64_t opset() const { return opset_; }
  const std::string& op_type() const { return proto_.op_type(); }

  // The node's name, or "#index" when it has none.
  std::string display_name() const;
  // "node 'conv1' (Conv, opset 13)" for error messages.
  std::string label() const;
  // Throws mcusplit::Error "<label>: <what>".
  [[noreturn]] void fail(const std::string& what) const;

  // Number of ONNX inputs, counting omitted ("") ones.
  size_t input_count() const { return static_cast<size_t>(proto_.input_size()); }
  // Tensor index of input `i`, or -1 when absent or omitted. Throws on a name
  // no earlier node, initializer or graph input defined.
  int input(size_t i) const;
  // Like input(), but throws when the input is absent.
  int required_input(size_t i) const;
  // The tensor of input `i`; the input must be present.
  const Tensor& input_tensor(size_t i) const;
  // Value of input `i` if it is present and constant, else nullptr.
  const Tensor* constant_input(size_t i) const;
  // Value of a present, constant input; throws naming `role` otherwise.
  const Tensor& required_constant_input(size_t i, const std::string& role) const;

  // True if output `i` is named and read by a later node or the graph outputs.
  bool output_is_used(size_t i) const;
  void set_used_names(const std::vector<std::string>* used) { used_names_ = used; }

 private:
  Graph& graph_;
  const onnx::NodeProto& proto_;
  int index_;
  int64_t opset_;
  const std::vector<std::string>* used_names_ = nullptr;  // sorted
};

// Integer values of a constant tensor (shape vectors, axes, indices).
std::vector<int64_t> tensor_to_int64s(const Tensor& tensor);

}  // namespace mcusplit::model
