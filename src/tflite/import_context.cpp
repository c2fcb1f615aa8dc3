#include "tflite/import_context.h"

#include <cmath>
#include <cstring>

#include <fmt/core.h>

#include "common/error.h"
#include "core/fixed_point.h"

namespace mcusplit::tflite {

void ImportContext::begin_operator(int32_t index, const fb::Operator& op, const std::string& name) {
  op_ = &op;
  op_index_ = index;
  op_name_ = name;
}

void ImportContext::fail(const std::string& problem) const {
  if (op_ == nullptr) throw Error(fmt::format("'{}': {}", model_.origin(), problem));
  throw Error(
      fmt::format("'{}': operator {} ({}): {}", model_.origin(), op_index_, op_name_, problem));
}

int ImportContext::input_count() const {
  return op_->inputs() == nullptr ? 0 : static_cast<int>(op_->inputs()->size());
}

int32_t ImportContext::input(int k, bool optional) const {
  if (k >= input_count()) {
    if (optional) return -1;
    fail("has " + std::to_string(input_count()) + " inputs, expected at least " +
         std::to_string(k + 1));
  }
  const int32_t t = op_->inputs()->Get(static_cast<flatbuffers::uoffset_t>(k));
  if (t < 0 && !optional) fail("input " + std::to_string(k) + " is missing");
  return t;
}

int32_t ImportContext::output(int k) const {
  const int count = op_->outputs() == nullptr ? 0 : static_cast<int>(op_->outputs()->size());
  if (k >= count) fail("has " + std::to_string(count) + " outputs");
  return op_->outputs()->Get(static_cast<flatbuffers::uoffset_t>(k));
}

void ImportContext::add_requantization(quant::QLayer& layer,
                                       const std::vector<float>& weight_scales, int32_t count,
                                       float input_scale, float output_scale) {
  for (int32_t c = 0; c < count; ++c) {
    const double effective = static_cast<double>(input_scale) *
                             static_cast<double>(weight_scales[static_cast<size_t>(c)]) /
                             static_cast<double>(output_scale);
    const core::QuantizedMultiplier m = core::quantize_multiplier(effective);
    layer.multiplier.push_back(m.multiplier);
    layer.shift.push_back(m.shift);
  }
}

std::vector<int32_t> ImportContext::optional_bias(int32_t count, const std::string& per) const {
  const int32_t bias = input(2, /*optional=*/true);
  if (bias < 0) return {};
  std::vector<int32_t> values = int32_constant(bias);
  if (static_cast<int32_t>(values.size()) != count) {
    fail("bias " + tensor_label(bias) + " has " + std::to_string(values.size()) + " values for " +
         std::to_string(count) + " " + per);
  }
  return values;
}

std::string ImportContext::tensor_label(int32_t tensor) const {
  return fmt::format("'{}' (tensor {})", model_.tensor_name(tensor), tensor);
}

std::vector<int32_t> ImportContext::dims(int32_t tensor) const {
  const auto* shape = model_.tensor(tensor).shape();
  if (shape == nullptr) return {};
  return std::vector<int32_t>(shape->begin(), shape->end());
}

core::TensorShape3 ImportContext::activation_shape(int32_t tensor) const {
  const std::vector<int32_t> d = dims(tensor);
  for (const int32_t v : d) {
    if (v < 1)
      fail(tensor_label(tensor) + " has shape " + shape_string(model_.tensor(tensor).shape()));
  }
  if (d.size() == 4 && d[0] == 1) return {d[3], d[1], d[2]};
  if (d.size() == 2 && d[0] == 1) return {d[1], 1, 1};
  if (d.size() == 1) return {d[0], 1, 1};
  fail(tensor_label(tensor) + " has shape " + shape_string(model_.tensor(tensor).shape()) +
       "; supported: batch-1 NHWC [1, H, W, C] or vectors [1, N]");
}

core::QuantParams ImportContext::activation_quant(int32_t tensor) const {
  const fb::QuantizationParameters* q = model_.tensor(tensor).quantization();
  if (q == nullptr || q->scale() == nullptr || q->scale()->size() == 0) {
    fail(tensor_label(tensor) + " has no quantization parameters");
  }
  if (q->scale()->size() != 1 || (q->zero_point() != nullptr && q->zero_point()->size() > 1)) {
    fail(tensor_label(tensor) + " has " + std::to_string(q->scale()->size()) +
         " scales; an activation has one scale and zero point");
  }
  core::QuantParams p;
  p.scale = q->scale()->Get(0);
  const int64_t zp =
      q->zero_point() == nullptr || q->zero_point()->size() == 0 ? 0 : q->zero_point()->Get(0);
  if (!(p.scale > 0.0f) || !std::isfinite(p.scale) || zp < -128 || zp > 127) {
    fail(tensor_label(tensor) + " has scale " + std::to_string(p.scale) + " and zero point " +
         std::to_string(zp) + "; int8 needs a positive scale and a zero point in [-128, 127]");
  }
  p.zero_point = static_cast<int32_t>(zp);
  return p;
}

int ImportContext::activation(int32_t tensor) {
  const auto found = qtensor_of_.find(tensor);
  if (found != qtensor_of_.end()) return found->second;
  const fb::Tensor& t = model_.tensor(tensor);
  if (t.type() != fb::TensorType::INT8) {
    fail(tensor_label(tensor) + " is " + tensor_type_name(t.type()) +
         "; only int8 models are supported (activations INT8, quantized by the converter)");
  }
  if (model_.is_constant(tensor))
    fail(tensor_label(tensor) + " is a constant, expected an activation");
  quant::QTensor q;
  q.name = model_.tensor_name(tensor);
  q.shape = activation_shape(tensor);
  q.quant = activation_quant(tensor);
  graph_.tensors.push_back(q);
  const int index = static_cast<int>(graph_.tensors.size()) - 1;
  qtensor_of_[tensor] = index;
  return index;
}

std::vector<int8_t> ImportContext::int8_constant(int32_t tensor) const {
  const fb::Tensor& t = model_.tensor(tensor);
  const auto* data = model_.constant_data(tensor);
  if (data == nullptr) fail(tensor_label(tensor) + " has no constant data");
  if (t.type() != fb::TensorType::INT8) {
    fail(tensor_label(tensor) + " is " + tensor_type_name(t.type()) + ", expected INT8 weights");
  }
  std::vector<int8_t> v(data->size());
  std::memcpy(v.data(), data->data(), data->size());
  return v;
}

std::vector<int32_t> ImportContext::int32_constant(int32_t tensor) const {
  const fb::Tensor& t = model_.tensor(tensor);
  const auto* data = model_.constant_data(tensor);
  if (data == nullptr) fail(tensor_label(tensor) + " has no constant data");
  if (t.type() != fb::TensorType::INT32) {
    fail(tensor_label(tensor) + " is " + tensor_type_name(t.type()) + ", expected INT32");
  }
  // Little-endian in the file, as on every host this builds for.
  std::vector<int32_t> v(data->size() / 4);
  std::memcpy(v.data(), data->data(), v.size() * 4);
  return v;
}

std::vector<float> ImportContext::weight_scales(int32_t tensor, int32_t count) const {
  const fb::QuantizationParameters* q = model_.tensor(tensor).quantization();
  if (q == nullptr || q->scale() == nullptr || q->scale()->size() == 0) {
    fail(tensor_label(tensor) + " has no quantization parameters");
  }
  const auto n = static_cast<int32_t>(q->scale()->size());
  if (n != 1 && n != count) {
    fail(tensor_label(tensor) + " has " + std::to_string(n) + " scales for " +
         std::to_string(count) + " output channels");
  }
  if (q->zero_point() != nullptr) {
    for (const int64_t zp : *q->zero_point()) {
      if (zp != 0)
        fail(tensor_label(tensor) + " has weight zero point " + std::to_string(zp) +
             ", expected 0");
    }
  }
  std::vector<float> scales(static_cast<size_t>(count));
  for (int32_t c = 0; c < count; ++c) {
    scales[static_cast<size_t>(c)] =
        q->scale()->Get(static_cast<flatbuffers::uoffset_t>(n == 1 ? 0 : c));
    if (!(scales[static_cast<size_t>(c)] > 0.0f)) {
      fail(tensor_label(tensor) + " has a weight scale that is not positive");
    }
  }
  return scales;
}

std::vector<int32_t> ImportContext::readers(int32_t tensor) const {
  std::vector<int32_t> found;
  const auto* ops = model_.graph().operators();
  for (uint32_t i = 0; ops != nullptr && i < ops->size(); ++i) {
    const auto* inputs = ops->Get(i)->inputs();
    if (inputs == nullptr) continue;
    for (const int32_t t : *inputs) {
      if (t == tensor) {
        found.push_back(static_cast<int32_t>(i));
        break;
      }
    }
  }
  return found;
}

const ImportContext::FoldedPad* ImportContext::folded_pad(int32_t tensor) const {
  const auto found = folded_pads_.find(tensor);
  return found == folded_pads_.end() ? nullptr : &found->second;
}

bool ImportContext::computed(int q) const {
  return q >= 0 && static_cast<size_t>(q) < computed_.size() && computed_[static_cast<size_t>(q)];
}

void ImportContext::set_graph_input(int q) {
  computed_.resize(graph_.tensors.size());
  computed_[static_cast<size_t>(q)] = true;
}

void ImportContext::add_layer(quant::QLayer layer) {
  for (const int t : layer.inputs) {
    if (!computed(t)) {
      fail("input '" + qtensor(t).name +
           "' is not computed by an earlier operator (operators must come in execution order)");
    }
  }
  if (computed(layer.output)) {
    fail("output '" + qtensor(layer.output).name +
         "' is computed already (by an earlier operator, or it is the graph input)");
  }
  computed_.resize(graph_.tensors.size());
  computed_[static_cast<size_t>(layer.output)] = true;
  graph_.layers.push_back(std::move(layer));
}

core::ActivationRange fused_activation(const ImportContext& ctx, fb::ActivationFunctionType f,
                                       const core::QuantParams& out) {
  switch (f) {
    case fb::ActivationFunctionType::NONE:
      return {};
    case fb::ActivationFunctionType::RELU:
      return core::quantized_activation_range(out, 0.0f, INFINITY);
    case fb::ActivationFunctionType::RELU6:
      return core::quantized_activation_range(out, 0.0f, 6.0f);
    case fb::ActivationFunctionType::RELU_N1_TO_1:
      return core::quantized_activation_range(out, -1.0f, 1.0f);
    default:
      ctx.fail(std::string("fused activation ") + fb::EnumNameActivationFunctionType(f) +
               " is not supported (NONE, RELU, RELU6, RELU_N1_TO_1 are)");
  }
}

}  // namespace mcusplit::tflite
