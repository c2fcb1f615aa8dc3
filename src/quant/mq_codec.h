// Encoders of the .mq payload's building blocks (docs/mq_format.md): shapes,
// tensors, and a layer as its skeleton (name, op, connections, kernel params)
// plus its constant arrays. The .mq file and the plan file
// (docs/plan_format.md) share them, so both describe a layer byte for byte
// the same way.
#pragma once

#include <cstddef>

#include "common/byte_stream.h"
#include "core/box.h"
#include "quant/qgraph.h"

namespace mcusplit::quant {

// Smallest encodings, to bound counts read from a file against what is left.
inline constexpr size_t kMqTensorMinBytes = 24;         // empty name
inline constexpr size_t kMqLayerSkeletonMinBytes = 13;  // empty name, no inputs or params

void put_shape(ByteWriter& w, const core::TensorShape3& s);
core::TensorShape3 get_shape(ByteReader& r);

// name, shape, scale, zero point.
void put_tensor(ByteWriter& w, const QTensor& t);
QTensor get_tensor(ByteReader& r);

// name, op, inputs, output and the op's kernel params; no constant arrays.
// `file_kind` names the format in the error for an unknown op type.
void put_layer_skeleton(ByteWriter& w, const QLayer& l);
QLayer get_layer_skeleton(ByteReader& r, const char* file_kind = ".mq");

// weights, bias, multiplier, shift.
void put_layer_constants(ByteWriter& w, const QLayer& l);
void get_layer_constants(ByteReader& r, QLayer& l);

}  // namespace mcusplit::quant
