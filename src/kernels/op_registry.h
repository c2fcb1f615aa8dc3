// One record per int8 operator, as TFLM registers its kernels: its name, its
// inputs, the checks its parameters must pass, the geometry (which input box
// an output box reads), the work a box costs, how its constants are sliced
// and bound, and how it is invoked on boxes. Every layer of the tree (the
// quantizer's validation, the single-device executor, the planner, the
// device program, the formats) asks the record instead of switching on the
// operator, so adding an operator is its kernel file, its record and its
// tests. The planner's independent checker keeps its own geometry on
// purpose. Freestanding.
#pragma once

#include <cstdint>

#include "core/box.h"
#include "kernels/int8_common.h"
#include "kernels/op_params.h"

namespace mcusplit::kernels {

// What a record sees of one layer: its operator and parameters, and for a
// Concat its per-input blocks (input_count of them).
struct OpLayer {
  OpType op = OpType::Conv;
  const OpParams* params = nullptr;
  const Int8ConcatParams* concat = nullptr;
  int32_t input_count = 0;
};

// The constant arrays of a layer whose constants are sliced by output
// channel, each addressing the slice's first channel.
struct ConstantArrays {
  const int8_t* weights = nullptr;
  const int32_t* bias = nullptr;  // null: no bias
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
};

// Element counts of those arrays for the slice the parameters name (bias:
// that or none). ok is false if the parameters do not determine them (an
// empty or inverted channel range, a kernel size or group count below 1,
// channels not divisible by groups) or a count exceeds 2^32 - 1.
struct ConstantCounts {
  bool ok = false;
  uint32_t weights = 0;
  uint32_t bias = 0;
  uint32_t requant = 0;
};

// Output channels [c0, c1) of a layer's constants.
struct ChannelRange {
  int32_t c0 = 0;
  int32_t c1 = 0;
};

// For operators whose weights, bias and requantization are sliced by output
// channel (Conv, FullyConnected): a device holds only its channels' rows.
struct ChannelConstants {
  int32_t (*channels)(const OpParams& p);  // output channels of the whole layer
  ChannelRange (*slice)(const OpParams& p);
  void (*set_slice)(OpParams& p, ChannelRange range);
  ConstantCounts (*counts)(const OpParams& p);  // of the slice
  bool (*per_tensor_requant)(const OpParams& p);
  void (*bind)(OpParams& p, const ConstantArrays& arrays);
  ConstantArrays (*bound)(const OpParams& p);  // what bind set
};

// The shapes of a layer's tensors, for the checks.
struct OpShapes {
  const TensorShape3* inputs = nullptr;  // input_count shapes, in input order
  int32_t input_count = 0;
  TensorShape3 output;
};

struct OpRegistration {
  const char* name;  // as reports and errors print it, e.g. "Conv"
  // Inputs the operator takes; Concat: any number from 1.
  int32_t input_count;
  bool variadic_inputs;
  // On one device the output is the input's bytes as they are (Reshape):
  // the single-device arena aliases them and nothing runs.
  bool output_aliases_input;
  // null when the operator has no constants.
  const ChannelConstants* channel_constants;

  // nullptr if the parameters are consistent with each other and with the
  // tensors' shapes; else what is wrong (static text).
  const char* (*check)(const OpLayer& layer, const OpShapes& shapes);
  // The box of input `input` (of shape input_shape) that computing out_box
  // reads; empty if none (a Concat input that does not land in out_box).
  Box (*required_input_box)(const OpLayer& layer, int32_t input, const TensorShape3& input_shape,
                            const Box& out_box);
  // Multiply-accumulates of out_box (0 for operators without).
  int64_t (*macs)(const OpLayer& layer, const Box& out_box);
  // The cost model's work units of out_box: MACs, or one per value read or
  // written for operators without MACs, so that they are not free.
  int64_t (*work)(const OpLayer& layer, const Box& out_box);
  // Bytes of kernel scratch invoking out_box needs (the kernel's
  // *_scratch_bytes twin; 0 if none).
  int32_t (*scratch_bytes)(const OpLayer& layer, const Box& out_box);
  // The kernel (variant) that runs these parameters, lower case, e.g.
  // "depthwise": what per-kernel instruction counts are grouped by.
  const char* (*kernel_name)(const OpParams& p);
  // Every name kernel_name may return, null-terminated: the names device
  // profiles give kernel rates by (plan/cluster.h).
  const char* const* kernel_names;
  // Computes out.box. inputs[k] is the tile of input k (data null: the op
  // reads nothing of it). FullyConnected writes neurons out.box.c0..c1 at
  // out.data, densely.
  // `scratch` holds at least scratch_bytes(layer, out.box) bytes.
  KernelStatus (*invoke)(const OpLayer& layer, const InputTile* inputs, const OutputTile& out,
                         Scratch scratch);
  // The in-place variant, for operators whose output may overwrite input
  // 0's bytes (depthwise convolution, int8_depthwise_conv_in_place.h): the
  // scratch it needs for out_box, 0 if these parameters cannot run in place;
  // null for operators without one.
  int32_t (*in_place_scratch_bytes)(const OpLayer& layer, const Box& out_box);
  KernelStatus (*invoke_in_place)(const OpLayer& layer, const InputTile& input,
                                  const OutputTile& out, Scratch scratch);
};

// The record's in_place_scratch_bytes, 0 where it has none: > 0 means the
// layer can compute out_box in place.
inline int32_t in_place_scratch_bytes(const OpRegistration& record, const OpLayer& layer,
                                      const Box& out_box) {
  return record.in_place_scratch_bytes != nullptr ? record.in_place_scratch_bytes(layer, out_box)
                                                  : 0;
}

const OpRegistration& op_registration(OpType op);

inline const char* op_type_name(OpType op) {
  return valid_op_type(static_cast<uint32_t>(op)) ? op_registration(op).name : "unknown";
}

// Whether some record's kernel_name may return `name`.
bool is_kernel_name(const char* name);

// The record's check plus the input count (static text, nullptr if fine).
const char* check_op_layer(const OpLayer& layer, const OpShapes& shapes);

// Records of each operator, one file each (kernels/op_*.cpp); constant
// initialised, so no start-up code on an MCU.
extern const OpRegistration kConvOp;
extern const OpRegistration kFullyConnectedOp;
extern const OpRegistration kAddOp;
extern const OpRegistration kMaxPoolOp;
extern const OpRegistration kAveragePoolOp;
extern const OpRegistration kGlobalAveragePoolOp;
extern const OpRegistration kConcatOp;
extern const OpRegistration kReshapeOp;
extern const OpRegistration kSoftmaxOp;
extern const OpRegistration kPadOp;

}  // namespace mcusplit::kernels
