#include "device/program_check.h"

#include "device/layer_compute.h"

namespace mcusplit::device {

namespace {

using core::Box;
using core::TensorShape3;

class Checker {
 public:
  explicit Checker(const DeviceProgram& p) : p_(p) {}

  ProgramProblem run() {
    if (!check_header()) return problem_;
    for (int32_t i = 0; i < p_.buffer_count; ++i) {
      if (!check_buffer(i)) return problem_;
    }
    for (int32_t i = 0; i < p_.layer_count; ++i) {
      if (!check_layer(i)) return problem_;
    }
    for (int32_t i = 0; i < p_.op_count; ++i) {
      op_ = i;
      if (!check_op(p_.ops[i])) return problem_;
    }
    return ProgramProblem{};
  }

 private:
  bool fail(const char* what, int32_t index = -1) {
    problem_ = ProgramProblem{RuntimeStatus::BadProgram, what, op_, index};
    return false;
  }

  bool tensor_ok(int32_t t) const { return 0 <= t && t < p_.tensor_count; }
  const TensorShape3& shape(int32_t t) const { return p_.tensor_shapes[t]; }
  bool buffer_ok(int32_t b) const { return 0 <= b && b < p_.buffer_count; }
  const DeviceBuffer& buffer(int32_t b) const { return p_.buffers[b]; }

  bool check_header() {
    if (p_.participant_count <= 0 || p_.participant < 0 || p_.participant >= p_.participant_count) {
      return fail("participant index out of range");
    }
    if (p_.tensor_count < 0 || p_.buffer_count < 0 || p_.op_count < 0 || p_.layer_count < 0) {
      return fail("negative count");
    }
    if ((p_.tensor_count > 0 && p_.tensor_shapes == nullptr) ||
        (p_.buffer_count > 0 && p_.buffers == nullptr) || (p_.op_count > 0 && p_.ops == nullptr) ||
        (p_.layer_count > 0 && p_.layers == nullptr)) {
      return fail("missing array");
    }
    if (!tensor_ok(p_.input_tensor) || !tensor_ok(p_.output_tensor)) {
      return fail("graph input or output tensor out of range");
    }
    if (p_.arena_bytes < 0 || p_.scratch_bytes < 0) return fail("negative arena or scratch size");
    for (int32_t t = 0; t < p_.tensor_count; ++t) {
      const TensorShape3& s = shape(t);
      if (s.c <= 0 || s.h <= 0 || s.w <= 0) return fail("tensor with an empty shape", t);
      // Volumes are int32 everywhere after this (kernels' checks, boxes);
      // in two steps, since c * h * w can overflow even an int64.
      const int64_t plane = int64_t{s.c} * s.h;
      if (plane > INT32_MAX || plane * s.w > INT32_MAX) {
        return fail("tensor of more than 2^31 - 1 elements", t);
      }
    }
    return true;
  }

  bool check_buffer(int32_t i) {
    const DeviceBuffer& b = buffer(i);
    if (!tensor_ok(b.tensor)) return fail("buffer of a tensor out of range", i);
    if (b.box.empty() || !core::inside(shape(b.tensor), b.box)) {
      return fail("buffer box empty or outside its tensor", i);
    }
    if (b.offset < 0 || b.offset + b.box.volume() > p_.arena_bytes) {
      return fail("buffer outside the arena", i);
    }
    return true;
  }

  bool check_layer(int32_t i) {
    const DeviceLayer& l = p_.layers[i];
    if (!kernels::valid_op_type(static_cast<uint32_t>(l.op))) {
      return fail("layer entry of an unknown operator", i);
    }
    if (!tensor_ok(l.output_tensor)) return fail("layer entry output tensor out of range", i);
    if (l.input_count < 1 || l.input_count > kMaxLayerInputs) {
      return fail("layer entry input count out of range", i);
    }
    TensorShape3 inputs[kMaxLayerInputs];
    for (int32_t k = 0; k < l.input_count; ++k) {
      if (!tensor_ok(l.input_tensors[k])) return fail("layer entry input tensor out of range", i);
      inputs[k] = shape(l.input_tensors[k]);
    }
    const char* problem = kernels::check_op_layer(
        l.view(), kernels::OpShapes{inputs, l.input_count, shape(l.output_tensor)});
    return problem == nullptr || fail(problem, i);
  }

  // `b` is a buffer of `tensor` holding `box`.
  bool check_holds(int32_t b, int32_t tensor, const Box& box, const char* what) {
    if (!buffer_ok(b) || buffer(b).tensor != tensor || !core::contains(buffer(b).box, box)) {
      return fail(what, b);
    }
    return true;
  }

  bool check_op(const DeviceOp& op) {
    if (!tensor_ok(op.tensor) || !core::inside(shape(op.tensor), op.box)) {
      return fail("op box outside its tensor");
    }
    if (op.kind != DeviceOpKind::Compute && (op.scratch_offset != 0 || op.scratch_bytes != 0)) {
      return fail("kernel scratch on an op that computes nothing");
    }
    switch (op.kind) {
      case DeviceOpKind::LoadInput:
        if (op.tensor != p_.input_tensor)
          return fail("load_input of a tensor other than the input");
        return check_holds(op.dst_buffer, op.tensor, op.box, "load_input box outside its buffer");
      case DeviceOpKind::StoreOutput:
        if (op.tensor != p_.output_tensor || !(op.box == core::full_box(shape(op.tensor)))) {
          return fail("store_output of anything but the whole output");
        }
        return check_holds(op.src_buffer, op.tensor, op.box, "store_output box outside its buffer");
      case DeviceOpKind::Send:
      case DeviceOpKind::Receive:
        if (op.peer < 0 || op.peer >= p_.participant_count || op.peer == p_.participant) {
          return fail("transfer peer out of range");
        }
        // An empty message has no frame to carry it (a Data frame's box is never empty).
        if (op.box.empty()) return fail("empty transfer");
        if (op.box.volume() > p_.scratch_bytes) return fail("transfer larger than the scratch");
        return op.kind == DeviceOpKind::Send
                   ? check_holds(op.src_buffer, op.tensor, op.box, "send box outside its buffer")
                   : check_holds(op.dst_buffer, op.tensor, op.box,
                                 "receive box outside its buffer");
      case DeviceOpKind::Copy:
        return check_holds(op.src_buffer, op.tensor, op.box, "copy box outside its source") &&
               check_holds(op.dst_buffer, op.tensor, op.box, "copy box outside its destination");
      case DeviceOpKind::Compute:
        return check_compute(op);
    }
    return fail("op of an unknown kind");
  }

  bool check_compute(const DeviceOp& op) {
    if (op.params < 0 || op.params >= p_.layer_count) return fail("compute without layer entry");
    const DeviceLayer& l = p_.layers[op.params];
    if (l.layer != op.layer || l.output_tensor != op.tensor) {
      return fail("compute op and its layer entry disagree", op.params);
    }
    if (!check_holds(op.dst_buffer, op.tensor, op.box, "compute box outside its buffer")) {
      return false;
    }
    if (op.input_count != l.input_count) return fail("compute op with the wrong input count");
    for (int32_t k = 0; k < op.input_count; ++k) {
      const int32_t b = op.inputs[k];
      if (b == -1) continue;  // reads nothing of this input
      if (!buffer_ok(b) || buffer(b).tensor != l.input_tensors[k]) {
        return fail("compute input buffer of the wrong tensor", b);
      }
    }
    if (op.scratch_bytes < 0 || op.scratch_offset < 0 || op.scratch_offset % 4 != 0 ||
        op.scratch_offset + op.scratch_bytes > p_.arena_bytes) {
      return fail("kernel scratch outside the arena or not 4-byte aligned");
    }
    const kernels::OpRegistration& record = kernels::op_registration(l.op);
    const int32_t in = op.input_count > 0 ? op.inputs[0] : -1;
    if (in >= 0 && buffers_overlap(buffer(in), buffer(op.dst_buffer))) {
      // In place: the output over its input from the same first byte, the
      // same channels, the whole dst buffer computed, within the input's bytes.
      const DeviceBuffer& src = buffer(in);
      const DeviceBuffer& dst = buffer(op.dst_buffer);
      const int32_t need = kernels::in_place_scratch_bytes(record, l.view(), op.box);
      if (need <= 0 || dst.offset != src.offset || dst.box.c0 != src.box.c0 ||
          dst.box.c1 != src.box.c1 || !(op.box == dst.box) || dst.box.volume() > src.box.volume()) {
        return fail("compute writes over its input where it cannot run in place", op.params);
      }
      if (op.scratch_bytes < need) {
        return fail("kernel scratch smaller than the kernel needs", op.params);
      }
    } else if (op.scratch_bytes < record.scratch_bytes(l.view(), op.box)) {
      return fail("kernel scratch smaller than the kernel needs", op.params);
    }
    // Only a variadic operator (Concat) reads some inputs and not others;
    // the kernels check that each input buffer covers what they read.
    if (!kernels::op_registration(l.op).variadic_inputs) {
      for (int32_t k = 0; k < op.input_count; ++k) {
        if (op.inputs[k] == -1 && !op.box.empty()) return fail("compute op without an input");
      }
    }
    return true;
  }

  const DeviceProgram& p_;
  ProgramProblem problem_;
  int32_t op_ = -1;
};

}  // namespace

ProgramProblem check_program(const DeviceProgram& program) {
  return Checker(program).run();
}

}  // namespace mcusplit::device
