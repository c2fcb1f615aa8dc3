// The parameters of one int8 layer, and the field list of every parameter
// struct: the one description the .mq file, the plan file and the device
// image serialise, read, size and document from (docs/formats.md), so adding
// a field is one edit here. Freestanding.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/int8_add.h"
#include "kernels/int8_concat.h"
#include "kernels/int8_conv.h"
#include "kernels/int8_fully_connected.h"
#include "kernels/int8_global_average_pool.h"
#include "kernels/int8_pad.h"
#include "kernels/int8_pool.h"
#include "kernels/int8_reshape.h"
#include "kernels/int8_softmax.h"
#include "kernels/op_type.h"

namespace mcusplit::kernels {

// Every operator's parameter block; only the one of the layer's OpType is
// meaningful (plain members rather than a union keep it trivially copyable;
// a Concat's per-input blocks live beside it, see OpLayer). The constant
// pointers (weights, bias, requant) are bound at run time, never serialised.
struct OpParams {
  Int8ConvParams conv;
  Int8FullyConnectedParams fc;
  Int8AddParams add;
  Int8PoolParams pool;  // MaxPool, AveragePool
  Int8GlobalAveragePoolParams global_pool;
  ReshapeParams reshape;
  Int8SoftmaxParams softmax;
  Int8PadParams pad;
  friend bool operator==(const OpParams&, const OpParams&) = default;
};

// ---- field lists ----
// A visitor has i32(name, int32_t&), flag(name, bool&), shape(name,
// TensorShape3&) and activation(name, ActivationRange&) (const references
// when visiting a const struct). Fields come in format order.

template <class P, class T>
concept FieldsOf = std::is_same_v<std::remove_const_t<P>, T>;

template <class V, class P>
requires FieldsOf<P, Int8ConvParams>
constexpr void visit_fields(P& p, V& v) {
  v.shape("input", p.input);
  v.shape("output", p.output);
  v.i32("kernel_h", p.kernel_h);
  v.i32("kernel_w", p.kernel_w);
  v.i32("stride_h", p.stride_h);
  v.i32("stride_w", p.stride_w);
  v.i32("dilation_h", p.dilation_h);
  v.i32("dilation_w", p.dilation_w);
  v.i32("pad_top", p.pad_top);
  v.i32("pad_left", p.pad_left);
  v.i32("groups", p.groups);
  v.i32("input_zero_point", p.input_zero_point);
  v.i32("output_zero_point", p.output_zero_point);
  v.activation("activation", p.activation);
  v.i32("weights_c0", p.weights_c0);
  v.i32("weights_c1", p.weights_c1);
}

template <class V, class P>
requires FieldsOf<P, Int8FullyConnectedParams>
constexpr void visit_fields(P& p, V& v) {
  v.i32("input_size", p.input_size);
  v.i32("output_size", p.output_size);
  v.i32("input_zero_point", p.input_zero_point);
  v.i32("output_zero_point", p.output_zero_point);
  v.activation("activation", p.activation);
  v.flag("per_tensor_requant", p.per_tensor_requant);
  v.i32("weights_n0", p.weights_n0);
  v.i32("weights_n1", p.weights_n1);
}

template <class V, class P>
requires FieldsOf<P, Int8AddParams>
constexpr void visit_fields(P& p, V& v) {
  v.shape("shape", p.shape);
  v.i32("input1_offset", p.input1_offset);
  v.i32("input2_offset", p.input2_offset);
  v.i32("output_offset", p.output_offset);
  v.i32("input1_multiplier", p.input1_multiplier);
  v.i32("input1_shift", p.input1_shift);
  v.i32("input2_multiplier", p.input2_multiplier);
  v.i32("input2_shift", p.input2_shift);
  v.i32("output_multiplier", p.output_multiplier);
  v.i32("output_shift", p.output_shift);
  v.i32("left_shift", p.left_shift);
  v.activation("activation", p.activation);
}

template <class V, class P>
requires FieldsOf<P, Int8PoolParams>
constexpr void visit_fields(P& p, V& v) {
  v.shape("input", p.input);
  v.shape("output", p.output);
  v.i32("kernel_h", p.kernel_h);
  v.i32("kernel_w", p.kernel_w);
  v.i32("stride_h", p.stride_h);
  v.i32("stride_w", p.stride_w);
  v.i32("pad_top", p.pad_top);
  v.i32("pad_left", p.pad_left);
  v.activation("activation", p.activation);
}

template <class V, class P>
requires FieldsOf<P, Int8GlobalAveragePoolParams>
constexpr void visit_fields(P& p, V& v) {
  v.shape("input", p.input);
  v.i32("input_zero_point", p.input_zero_point);
  v.i32("output_zero_point", p.output_zero_point);
  v.i32("multiplier", p.multiplier);
  v.i32("shift", p.shift);
  v.activation("activation", p.activation);
}

template <class V, class P>
requires FieldsOf<P, Int8ConcatParams>
constexpr void visit_fields(P& p, V& v) {
  v.shape("input", p.input);
  v.shape("output", p.output);
  v.i32("offset_c", p.offset_c);
  v.i32("offset_y", p.offset_y);
  v.i32("offset_x", p.offset_x);
  v.i32("input_zero_point", p.input_zero_point);
  v.i32("output_zero_point", p.output_zero_point);
  v.i32("multiplier", p.multiplier);
  v.i32("shift", p.shift);
}

template <class V, class P>
requires FieldsOf<P, ReshapeParams>
constexpr void visit_fields(P& p, V& v) {
  v.shape("input", p.input);
  v.shape("output", p.output);
}

template <class V, class P>
requires FieldsOf<P, Int8SoftmaxParams>
void visit_fields(P& p, V& v) {
  v.shape("shape", p.shape);
  v.i32("input_multiplier", p.input_multiplier);
  v.i32("input_left_shift", p.input_left_shift);
  v.i32("diff_min", p.diff_min);
}

template <class V, class P>
requires FieldsOf<P, Int8PadParams>
void visit_fields(P& p, V& v) {
  v.shape("input", p.input);
  v.shape("output", p.output);
  v.i32("pad_c", p.pad_c);
  v.i32("pad_top", p.pad_top);
  v.i32("pad_left", p.pad_left);
  v.i32("value", p.value);
}

// The fields of `op`'s own parameter block in `params` (none for Concat,
// whose per-input blocks are visited one by one). The one switch over the
// operators outside their records: it picks a struct, so formats can stay
// templates over visitors.
template <class V, class P>
requires FieldsOf<P, OpParams>
constexpr void visit_op_params(OpType op, P& params, V& v) {
  switch (op) {
    case OpType::Conv:
      return visit_fields(params.conv, v);
    case OpType::FullyConnected:
      return visit_fields(params.fc, v);
    case OpType::Add:
      return visit_fields(params.add, v);
    case OpType::MaxPool:
    case OpType::AveragePool:
      return visit_fields(params.pool, v);
    case OpType::GlobalAveragePool:
      return visit_fields(params.global_pool, v);
    case OpType::Reshape:
      return visit_fields(params.reshape, v);
    case OpType::Softmax:
      return visit_fields(params.softmax, v);
    case OpType::Pad:
      return visit_fields(params.pad, v);
    case OpType::Concat:
      return;
  }
}

// A visitor that counts 32-bit words (a shape is 3, an activation 2, a flag
// 1): the size of a block in word-based formats.
struct FieldWordCounter {
  uint32_t words = 0;
  template <class T>
  constexpr void i32(const char*, T&) {
    words += 1;
  }
  template <class T>
  constexpr void flag(const char*, T&) {
    words += 1;
  }
  template <class T>
  constexpr void shape(const char*, T&) {
    words += 3;
  }
  template <class T>
  constexpr void activation(const char*, T&) {
    words += 2;
  }
};

template <class P>
constexpr uint32_t field_words(const P& p) {
  FieldWordCounter counter;
  visit_fields(p, counter);
  return counter.words;
}

}  // namespace mcusplit::kernels
