// Internal to the quantizer: the state shared by the per-operator
// quantization functions (quantize_*.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/quant_params.h"
#include "model/graph.h"
#include "quant/qgraph.h"
#include "quant/tensor_range.h"

namespace mcusplit::quant::detail {

class QuantizerContext {
 public:
  QuantizerContext(const model::Graph& graph, const std::vector<TensorRange>& ranges, QGraph& out);

  const model::Graph& graph() const { return graph_; }
  QGraph& qgraph() { return q_; }
  const model::Tensor& tensor(int t) const { return graph_.tensors[static_cast<size_t>(t)]; }
  const QTensor& qtensor(int q) const { return q_.tensors[static_cast<size_t>(q)]; }

  [[noreturn]] void fail(const model::Node& node, const std::string& message) const;

  // The QTensor of activation input i of `node`. Fails if it is missing or a
  // constant, or (unless allow_hwc_flatten) a flattened CHW tensor held in
  // HWC order.
  int activation_input(const model::Node& node, size_t i, bool allow_hwc_flatten = false) const;
  // Constant input i (weights, bias), or nullptr when the optional input is
  // absent. Fails if it exists but is not a constant.
  const model::Tensor* constant_input(const model::Node& node, size_t i, const char* what) const;

  // Creates the QTensor of the node's first output: parameters from the
  // calibrated range unless `same_as` gives them.
  int add_output(const model::Node& node, std::optional<core::QuantParams> same_as = {});
  int add_tensor(int graph_tensor, std::optional<core::QuantParams> same_as);

  // The float dims as NHWC batch-1 {c, h, w}: [1,C,H,W] -> {C,H,W}, [1,N] -> {N,1,1}.
  core::TensorShape3 shape3(const model::Node& node, int graph_tensor) const;

  // Set on a QTensor that holds a flattened [C,H,W] in HWC order (see
  // quantizer.h); only a fully connected layer may read it.
  void mark_hwc_flatten(int q, const core::TensorShape3& chw) {
    hwc_flatten_[static_cast<size_t>(q)] = chw;
  }
  std::optional<core::TensorShape3> hwc_flatten(int q) const {
    return hwc_flatten_[static_cast<size_t>(q)];
  }

  QLayer& add_layer(const model::Node& node, OpType op, std::vector<int> inputs, int output);

 private:
  const model::Graph& graph_;
  const std::vector<TensorRange>& ranges_;
  QGraph& q_;
  std::vector<int> qtensor_of_;                                 // by graph tensor, -1 until created
  std::vector<std::optional<core::TensorShape3>> hwc_flatten_;  // by QTensor
};

// Per-operator steps, each adding one layer (and its output tensor).
void quantize_conv(QuantizerContext& ctx, const model::Node& node);
void quantize_fully_connected(QuantizerContext& ctx, const model::Node& node);
void quantize_add(QuantizerContext& ctx, const model::Node& node);
void quantize_pool(QuantizerContext& ctx, const model::Node& node);
void quantize_global_average_pool(QuantizerContext& ctx, const model::Node& node);
void quantize_concat(QuantizerContext& ctx, const model::Node& node);
void quantize_reshape(QuantizerContext& ctx, const model::Node& node);

// Output clamp of a fused activation (full int8 range for none).
core::ActivationRange activation_clamp(const model::FusedActivation& act,
                                       const core::QuantParams& out);

}  // namespace mcusplit::quant::detail
