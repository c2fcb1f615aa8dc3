// What converting one TFLite operator into QGraph layers needs: the model,
// the graph being built, the operator's tensors as QGraph tensors, their
// quantization and constants, and errors that name the operator.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/box.h"
#include "core/quant_params.h"
#include "quant/qgraph.h"
#include "tflite/tflite_model.h"

namespace mcusplit::tflite {

class ImportContext {
 public:
  ImportContext(const TfliteModel& model, quant::QGraph& graph) : model_(model), graph_(graph) {}

  const TfliteModel& model() const { return model_; }
  quant::QGraph& graph() { return graph_; }

  // The operator being converted (set by the importer before each one).
  void begin_operator(int32_t index, const fb::Operator& op, const std::string& name);
  const fb::Operator& op() const { return *op_; }

  // Throws mcusplit::Error "'<file>': operator <i> (<NAME>): <problem>"
  // (without the operator before the first one).
  [[noreturn]] void fail(const std::string& problem) const;

  // The TFLite tensor index of the operator's input / output k; fails if it
  // has fewer or the input is the optional -1 (unless optional, then -1).
  int32_t input(int k, bool optional = false) const;
  int32_t output(int k = 0) const;
  int input_count() const;

  // The QGraph tensor of an int8 activation tensor, created on first use:
  // batch-1 NHWC [1, H, W, C] becomes {C, H, W}, [1, N] or [N] becomes
  // {N, 1, 1}. Fails for another type (naming it), a constant, another
  // shape or quantization that is not one scale and zero point.
  int activation(int32_t tensor);
  const quant::QTensor& qtensor(int q) const { return graph_.tensors[static_cast<size_t>(q)]; }

  // An int8 / int32 constant's values (the tensor must be constant and of
  // that type).
  std::vector<int8_t> int8_constant(int32_t tensor) const;
  std::vector<int32_t> int32_constant(int32_t tensor) const;
  // A tensor's shape dims.
  std::vector<int32_t> dims(int32_t tensor) const;
  // A weight tensor's scales: `count` of them (per channel), or one that
  // serves all (per tensor); every zero point must be 0 (TFLite's int8
  // weights are symmetric).
  std::vector<float> weight_scales(int32_t tensor, int32_t count) const;

  std::string tensor_label(int32_t tensor) const;  // "'name' (tensor i)"

  // A weighted layer's requantization: for each of the first `count` weight
  // scales, the multiplier and shift of input_scale * weight_scale /
  // output_scale, as TFLM's PopulateConvolutionQuantizationParams derives
  // them.
  static void add_requantization(quant::QLayer& layer, const std::vector<float>& weight_scales,
                                 int32_t count, float input_scale, float output_scale);
  // The operator's optional int32 bias (input 2): empty when absent; fails
  // unless it holds `count` values ("... values for <count> <per>").
  std::vector<int32_t> optional_bias(int32_t count, const std::string& per) const;

  // Appends a layer; fails unless its inputs are computed already (the
  // graph input or an earlier layer's output) and its output is not.
  void add_layer(quant::QLayer layer);
  // Marks the graph input computed (before the operators).
  void set_graph_input(int q);
  bool computed(int q) const;
  // The indices of the operators that read `tensor`.
  std::vector<int32_t> readers(int32_t tensor) const;

  // A PAD folded into the convolution that reads its output: the tensor the
  // PAD reads and the rows and columns it adds before and in all.
  struct FoldedPad {
    int32_t source = -1;
    int32_t top = 0, left = 0;
    int32_t padded_h = 0, padded_w = 0;
  };
  void fold_pad(int32_t padded_tensor, const FoldedPad& pad) { folded_pads_[padded_tensor] = pad; }
  // The fold whose output is `tensor`, or nullptr.
  const FoldedPad* folded_pad(int32_t tensor) const;

  // After the last operator: errors no longer name one.
  void end_operators() { op_ = nullptr; }

  // An int8 activation tensor's shape and quantization as activation() reads
  // them, without making it a QGraph tensor.
  core::TensorShape3 activation_shape(int32_t tensor) const;
  core::QuantParams activation_quant(int32_t tensor) const;

 private:
  const TfliteModel& model_;
  quant::QGraph& graph_;
  std::unordered_map<int32_t, int> qtensor_of_;
  std::unordered_map<int32_t, FoldedPad> folded_pads_;
  std::vector<bool> computed_;  // by QGraph tensor
  const fb::Operator* op_ = nullptr;
  int32_t op_index_ = -1;
  std::string op_name_;
};

// TFLite's fused activation as the int8 output clamp of `out`
// (CalculateActivationRangeQuantized); fails for TANH and SIGN_BIT.
core::ActivationRange fused_activation(const ImportContext& ctx, fb::ActivationFunctionType f,
                                       const core::QuantParams& out);

}  // namespace mcusplit::tflite
