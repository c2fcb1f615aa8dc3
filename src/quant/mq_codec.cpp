#include "quant/mq_codec.h"

#include <fmt/format.h>

#include "common/error.h"

namespace mcusplit::quant {
namespace {

// The field lists (kernels/op_params.h) written and read as the .mq and plan
// formats store them: i32 fields and shapes as little-endian words, flags as
// one byte.
class FieldWriter {
 public:
  explicit FieldWriter(ByteWriter& w) : w_(w) {}
  void i32(const char*, int32_t v) { w_.i32(v); }
  void flag(const char*, bool v) { w_.u8(v ? 1 : 0); }
  void shape(const char*, const core::TensorShape3& s) { put_shape(w_, s); }
  void activation(const char*, const core::ActivationRange& a) {
    w_.i32(a.min);
    w_.i32(a.max);
  }

 private:
  ByteWriter& w_;
};

class FieldReader {
 public:
  // `layer` and `file_kind` name the layer and the format in errors.
  FieldReader(ByteReader& r, const char* what, const std::string& layer, const char* file_kind)
      : r_(r), what_(what), layer_(layer), file_kind_(file_kind) {}
  void i32(const char*, int32_t& v) { v = r_.i32(what_); }
  // Only 0 and 1: any other byte would read as true and be written back as
  // 1, so two files would mean one model.
  void flag(const char* name, bool& v) {
    const uint8_t u = r_.u8(what_);
    if (u > 1) {
      throw Error(fmt::format("'{}': layer '{}': flag {} is {}, not 0 or 1 (corrupt {})",
                              r_.origin(), layer_, name, u, file_kind_));
    }
    v = u == 1;
  }
  void shape(const char*, core::TensorShape3& s) { s = get_shape(r_); }
  void activation(const char*, core::ActivationRange& a) {
    a.min = r_.i32(what_);
    a.max = r_.i32(what_);
  }

 private:
  ByteReader& r_;
  const char* what_;
  const std::string& layer_;
  const char* file_kind_;
};

// Bytes of one concat block: a lower bound for the count check.
const size_t kConcatParamsBytes = 4 * kernels::field_words(kernels::Int8ConcatParams{});

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
  FieldWriter fields(w);
  kernels::visit_op_params(l.op, static_cast<const kernels::OpParams&>(l), fields);
  if (l.record().variadic_inputs) {
    w.u32(static_cast<uint32_t>(l.concat.size()));
    for (const auto& p : l.concat) kernels::visit_fields(p, fields);
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
  if (!kernels::valid_op_type(op)) {
    throw Error(fmt::format("'{}': layer '{}' has unknown type {} (corrupt or newer {})",
                            r.origin(), l.name, op, file_kind));
  }
  l.op = static_cast<OpType>(op);
  const uint32_t inputs = r.count("layer inputs", 4);
  for (uint32_t i = 0; i < inputs; ++i) l.inputs.push_back(r.i32("layer inputs"));
  l.output = r.i32("a layer output");
  FieldReader fields(r, "layer params", l.name, file_kind);
  kernels::visit_op_params(l.op, static_cast<kernels::OpParams&>(l), fields);
  if (l.record().variadic_inputs) {
    const uint32_t n = r.count("concat params", kConcatParamsBytes);
    l.concat.resize(n);
    for (kernels::Int8ConcatParams& p : l.concat) kernels::visit_fields(p, fields);
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
