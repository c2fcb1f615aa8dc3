#include "quant/mq_codec.h"

#include <fmt/format.h>

#include "common/error.h"

namespace mcusplit::quant {
namespace {

void put_activation(ByteWriter& w, const core::ActivationRange& a) {
  w.i32(a.min);
  w.i32(a.max);
}
core::ActivationRange get_activation(ByteReader& r) {
  core::ActivationRange a;
  a.min = r.i32("an activation range");
  a.max = r.i32("an activation range");
  return a;
}

void put_conv(ByteWriter& w, const kernels::Int8ConvParams& p) {
  put_shape(w, p.input);
  put_shape(w, p.output);
  for (int32_t v : {p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                    p.pad_top, p.pad_left, p.groups, p.input_zero_point, p.output_zero_point}) {
    w.i32(v);
  }
  put_activation(w, p.activation);
  w.i32(p.weights_c0);
  w.i32(p.weights_c1);
}
kernels::Int8ConvParams get_conv(ByteReader& r) {
  kernels::Int8ConvParams p;
  p.input = get_shape(r);
  p.output = get_shape(r);
  for (int32_t* v :
       {&p.kernel_h, &p.kernel_w, &p.stride_h, &p.stride_w, &p.dilation_h, &p.dilation_w,
        &p.pad_top, &p.pad_left, &p.groups, &p.input_zero_point, &p.output_zero_point}) {
    *v = r.i32("conv params");
  }
  p.activation = get_activation(r);
  p.weights_c0 = r.i32("conv params");
  p.weights_c1 = r.i32("conv params");
  return p;
}

void put_fc(ByteWriter& w, const kernels::Int8FullyConnectedParams& p) {
  for (int32_t v : {p.input_size, p.output_size, p.input_zero_point, p.output_zero_point}) w.i32(v);
  put_activation(w, p.activation);
  w.u8(p.per_tensor_requant ? 1 : 0);
  w.i32(p.weights_n0);
  w.i32(p.weights_n1);
}
kernels::Int8FullyConnectedParams get_fc(ByteReader& r) {
  kernels::Int8FullyConnectedParams p;
  for (int32_t* v : {&p.input_size, &p.output_size, &p.input_zero_point, &p.output_zero_point}) {
    *v = r.i32("fully connected params");
  }
  p.activation = get_activation(r);
  p.per_tensor_requant = r.u8("fully connected params") != 0;
  p.weights_n0 = r.i32("fully connected params");
  p.weights_n1 = r.i32("fully connected params");
  return p;
}

void put_add(ByteWriter& w, const kernels::Int8AddParams& p) {
  put_shape(w, p.shape);
  for (int32_t v :
       {p.input1_offset, p.input2_offset, p.output_offset, p.input1_multiplier, p.input1_shift,
        p.input2_multiplier, p.input2_shift, p.output_multiplier, p.output_shift, p.left_shift}) {
    w.i32(v);
  }
  put_activation(w, p.activation);
}
kernels::Int8AddParams get_add(ByteReader& r) {
  kernels::Int8AddParams p;
  p.shape = get_shape(r);
  for (int32_t* v : {&p.input1_offset, &p.input2_offset, &p.output_offset, &p.input1_multiplier,
                     &p.input1_shift, &p.input2_multiplier, &p.input2_shift, &p.output_multiplier,
                     &p.output_shift, &p.left_shift}) {
    *v = r.i32("add params");
  }
  p.activation = get_activation(r);
  return p;
}

void put_pool(ByteWriter& w, const kernels::Int8PoolParams& p) {
  put_shape(w, p.input);
  put_shape(w, p.output);
  for (int32_t v : {p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left})
    w.i32(v);
  put_activation(w, p.activation);
}
kernels::Int8PoolParams get_pool(ByteReader& r) {
  kernels::Int8PoolParams p;
  p.input = get_shape(r);
  p.output = get_shape(r);
  for (int32_t* v : {&p.kernel_h, &p.kernel_w, &p.stride_h, &p.stride_w, &p.pad_top, &p.pad_left}) {
    *v = r.i32("pool params");
  }
  p.activation = get_activation(r);
  return p;
}

void put_global_pool(ByteWriter& w, const kernels::Int8GlobalAveragePoolParams& p) {
  put_shape(w, p.input);
  for (int32_t v : {p.input_zero_point, p.output_zero_point, p.multiplier, p.shift}) w.i32(v);
  put_activation(w, p.activation);
}
kernels::Int8GlobalAveragePoolParams get_global_pool(ByteReader& r) {
  kernels::Int8GlobalAveragePoolParams p;
  p.input = get_shape(r);
  for (int32_t* v : {&p.input_zero_point, &p.output_zero_point, &p.multiplier, &p.shift}) {
    *v = r.i32("global average pool params");
  }
  p.activation = get_activation(r);
  return p;
}

constexpr size_t kConcatParamsBytes = 4 * (3 + 3 + 3 + 4);
void put_concat(ByteWriter& w, const kernels::Int8ConcatParams& p) {
  put_shape(w, p.input);
  put_shape(w, p.output);
  for (int32_t v : {p.offset_c, p.offset_y, p.offset_x, p.input_zero_point, p.output_zero_point,
                    p.multiplier, p.shift}) {
    w.i32(v);
  }
}
kernels::Int8ConcatParams get_concat(ByteReader& r) {
  kernels::Int8ConcatParams p;
  p.input = get_shape(r);
  p.output = get_shape(r);
  for (int32_t* v : {&p.offset_c, &p.offset_y, &p.offset_x, &p.input_zero_point,
                     &p.output_zero_point, &p.multiplier, &p.shift}) {
    *v = r.i32("concat params");
  }
  return p;
}

}  // namespace

void put_shape(ByteWriter& w, const core::TensorShape3& s) {
  w.i32(s.c);
  w.i32(s.h);
  w.i32(s.w);
}
core::TensorShape3 get_shape(ByteReader& r) {
  core::TensorShape3 s;
  s.c = r.i32("a shape");
  s.h = r.i32("a shape");
  s.w = r.i32("a shape");
  return s;
}
void put_tensor(ByteWriter& w, const QTensor& t) {
  w.str(t.name);
  put_shape(w, t.shape);
  w.f32(t.quant.scale);
  w.i32(t.quant.zero_point);
}

QTensor get_tensor(ByteReader& r) {
  QTensor t;
  t.name = r.str("a tensor name");
  t.shape = get_shape(r);
  t.quant.scale = r.f32("a tensor scale");
  t.quant.zero_point = r.i32("a tensor zero point");
  return t;
}

void put_layer_skeleton(ByteWriter& w, const QLayer& l) {
  w.str(l.name);
  w.u8(static_cast<uint8_t>(l.op));
  w.u32(static_cast<uint32_t>(l.inputs.size()));
  for (int t : l.inputs) w.i32(t);
  w.i32(l.output);
  switch (l.op) {
    case QOpType::Conv:
      put_conv(w, l.conv);
      break;
    case QOpType::FullyConnected:
      put_fc(w, l.fc);
      break;
    case QOpType::Add:
      put_add(w, l.add);
      break;
    case QOpType::MaxPool:
    case QOpType::AveragePool:
      put_pool(w, l.pool);
      break;
    case QOpType::GlobalAveragePool:
      put_global_pool(w, l.global_pool);
      break;
    case QOpType::Concat:
      w.u32(static_cast<uint32_t>(l.concat.size()));
      for (const auto& p : l.concat) put_concat(w, p);
      break;
    case QOpType::Reshape:
      break;
  }
}

void put_layer_constants(ByteWriter& w, const QLayer& l) {
  w.i8_array(l.weights);
  w.i32_array(l.bias);
  w.i32_array(l.multiplier);
  w.i32_array(l.shift);
}

QLayer get_layer_skeleton(ByteReader& r, const char* file_kind) {
  QLayer l;
  l.name = r.str("a layer name");
  const uint8_t op = r.u8("a layer type");
  if (op > static_cast<uint8_t>(QOpType::Reshape)) {
    throw Error(fmt::format("'{}': layer '{}' has unknown type {} (corrupt or newer {})",
                            r.origin(), l.name, op, file_kind));
  }
  l.op = static_cast<QOpType>(op);
  const uint32_t inputs = r.count("layer inputs", 4);
  for (uint32_t i = 0; i < inputs; ++i) l.inputs.push_back(r.i32("layer inputs"));
  l.output = r.i32("a layer output");
  switch (l.op) {
    case QOpType::Conv:
      l.conv = get_conv(r);
      break;
    case QOpType::FullyConnected:
      l.fc = get_fc(r);
      break;
    case QOpType::Add:
      l.add = get_add(r);
      break;
    case QOpType::MaxPool:
    case QOpType::AveragePool:
      l.pool = get_pool(r);
      break;
    case QOpType::GlobalAveragePool:
      l.global_pool = get_global_pool(r);
      break;
    case QOpType::Concat: {
      const uint32_t n = r.count("concat params", kConcatParamsBytes);
      for (uint32_t i = 0; i < n; ++i) l.concat.push_back(get_concat(r));
      break;
    }
    case QOpType::Reshape:
      break;
  }
  return l;
}

void get_layer_constants(ByteReader& r, QLayer& l) {
  l.weights = r.i8_array("weights");
  l.bias = r.i32_array("bias");
  l.multiplier = r.i32_array("requantization multipliers");
  l.shift = r.i32_array("requantization shifts");
}

}  // namespace mcusplit::quant
