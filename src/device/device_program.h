// What one participant of a plan runs: a plain-data view of its slice of the
// plan (plan/plan.h) with the kernel parameters of the layers it computes
// already bound to its weight slices. The runtime (device_runtime.h) never
// sees a QGraph or a Plan, only this. Freestanding: pointers and counts into
// storage someone else owns (host vectors, or static arrays on an MCU).
#pragma once

#include <cstdint>

#include "core/box.h"
#include "kernels/op_registry.h"

namespace mcusplit::device {

// Most inputs a layer (and so a Compute op) may have; a Concat of more is
// refused when the program is built.
inline constexpr int32_t kMaxLayerInputs = 8;

// One region of one tensor held densely (NHWC over `box`) at `offset` in the
// participant's arena.
struct DeviceBuffer {
  int32_t tensor = -1;
  core::Box box;
  int64_t offset = 0;
  friend bool operator==(const DeviceBuffer&, const DeviceBuffer&) = default;
};

// Same meaning and order as plan::OpKind.
enum class DeviceOpKind : uint8_t {
  LoadInput,    // coordinator: the graph input's `box` into `dst_buffer`
  Send,         // `box` of `tensor` from `src_buffer` to participant `peer`
  Receive,      // `box` of `tensor` from participant `peer` into `dst_buffer`
  Copy,         // `box` of `tensor` from `src_buffer` to `dst_buffer`
  Compute,      // `box` of layer `layer`'s output into `dst_buffer`, reading `inputs`
  StoreOutput,  // coordinator: the whole graph output from `src_buffer`
};

inline const char* device_op_kind_name(DeviceOpKind k) {
  switch (k) {
    case DeviceOpKind::LoadInput:
      return "load_input";
    case DeviceOpKind::Send:
      return "send";
    case DeviceOpKind::Receive:
      return "receive";
    case DeviceOpKind::Copy:
      return "copy";
    case DeviceOpKind::Compute:
      return "compute";
    case DeviceOpKind::StoreOutput:
      return "store_output";
  }
  return "unknown";
}

struct DeviceOp {
  DeviceOpKind kind = DeviceOpKind::Compute;
  int32_t step = 0;
  int32_t layer = -1;   // Compute: the graph layer (for reports and hooks)
  int32_t params = -1;  // Compute: index into DeviceProgram::layers
  int32_t peer = -1;    // Send: destination, Receive: source
  int32_t tensor = -1;
  core::Box box;  // tensor coordinates
  int32_t src_buffer = -1;
  int32_t dst_buffer = -1;
  // Compute: one buffer per layer input, in layer input order; -1 where the
  // box reads nothing of that input (a Concat input outside the box).
  int32_t input_count = 0;
  int32_t inputs[kMaxLayerInputs] = {-1, -1, -1, -1, -1, -1, -1, -1};
  // Compute: the kernel's scratch, scratch_bytes at scratch_offset in the
  // arena (4-byte aligned; 0 bytes for none). Other ops: 0 and 0. (This
  // order leaves no padding.)
  int32_t scratch_bytes = 0;
  int64_t scratch_offset = 0;
  friend bool operator==(const DeviceOp&, const DeviceOp&) = default;
};

using kernels::OpType;

// A layer this participant computes, its kernel parameters (the base) bound:
// conv weights_c0/c1 (fully connected weights_n0/n1) are the participant's
// slice and the constant pointers address the slice's data. Only the block
// of `op` is meaningful.
struct DeviceLayer : kernels::OpParams {
  int32_t layer = -1;  // graph layer index
  OpType op = OpType::Conv;
  int32_t output_tensor = -1;
  int32_t input_count = 0;
  int32_t input_tensors[kMaxLayerInputs] = {-1, -1, -1, -1, -1, -1, -1, -1};
  const kernels::Int8ConcatParams* concat = nullptr;  // Concat: input_count blocks

  // What the operator's record (kernels/op_registry.h) sees of this layer.
  kernels::OpLayer view() const { return kernels::OpLayer{op, this, concat, input_count}; }
  // Pointers compare by address: equal layers share their constants.
  friend bool operator==(const DeviceLayer&, const DeviceLayer&) = default;
};

struct DeviceProgram {
  int32_t participant = -1;
  int32_t participant_count = 0;                      // devices + the coordinator (the last index)
  const core::TensorShape3* tensor_shapes = nullptr;  // every graph tensor
  int32_t tensor_count = 0;
  int32_t input_tensor = -1;   // graph input (LoadInput)
  int32_t output_tensor = -1;  // graph output (StoreOutput)
  const DeviceBuffer* buffers = nullptr;
  int32_t buffer_count = 0;
  const DeviceOp* ops = nullptr;  // in execution order
  int32_t op_count = 0;
  const DeviceLayer* layers = nullptr;  // the layers this participant computes
  int32_t layer_count = 0;
  int64_t arena_bytes = 0;    // max(offset + bytes) over buffers and kernel scratch: the peak RAM
  int64_t scratch_bytes = 0;  // largest Send/Receive box: the payload scratch needed

  bool coordinator() const { return participant == participant_count - 1; }
};

}  // namespace mcusplit::device
