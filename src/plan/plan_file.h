// The plan file (docs/plan_format.md): a Plan, the int8 graph's skeleton
// (tensors, layers and kernel params, no constant arrays) and, per
// participant, the constant data of exactly the weight slices it computes
// with. A 28-byte header (magic "MCUSPLPL", format version, payload length,
// FNV-1a hash of the payload) precedes a little-endian payload. The payload
// hash is the plan hash: the distributed runtime stamps it on every frame so
// that participants running different plans refuse each other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "plan/plan_file_records.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

inline constexpr char kPlanMagic[8] = {'M', 'C', 'U', 'S', 'P', 'L', 'P', 'L'};
inline constexpr uint32_t kPlanFormatVersion = 8;
inline constexpr size_t kPlanHeaderBytes = plan_header_bytes();

// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
uint64_t fnv1a64(const char* data, size_t size);
// A plan's model hash: FNV-1a of the model's .mq bytes (quant::serialize_mq),
// whatever file the model was read from.
uint64_t model_hash(const quant::QGraph& graph);

// Output channels (fully connected: neurons) [c0, c1) of one layer's
// constants: weights rows of the OHWI / [N][K] array, bias (empty if the
// layer has none), multiplier and shift (one element for a fully connected
// layer with per_tensor_requant).
struct LayerConstants {
  int layer = -1;
  int32_t c0 = 0;
  int32_t c1 = 0;
  std::vector<int8_t> weights;
  std::vector<int32_t> bias;
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;
  friend bool operator==(const LayerConstants&, const LayerConstants&) = default;
};

struct PlanFile {
  Plan plan;
  // Skeleton: tensors and layers with their kernel params; every layer's
  // constant vectors are empty.
  quant::QGraph graph;
  // Per participant, parallel to plan.participants[p].weights.
  std::vector<std::vector<LayerConstants>> constants;
  uint64_t hash = 0;  // the plan hash (header)
};

// The whole file's bytes, header included. Constants are sliced out of
// `full_graph` per WeightSlice. Throws mcusplit::Error if the plan is not
// one parse_plan would accept: a slice outside its layer's channels or of a
// layer without constants, an index out of range, a participant count other
// than devices + 1.
std::string serialize_plan(const Plan& plan, const quant::QGraph& full_graph);

// Parses bytes from serialize_plan; `origin` names the file in errors.
// Throws mcusplit::Error (exit code 2) with a one-line message for a bad
// magic, an unsupported version, a length or hash mismatch, a truncated or
// inconsistent payload, and any index out of range.
PlanFile parse_plan(const std::string& bytes, const std::string& origin);

// Writes atomically: a temporary file beside `path`, renamed over it, so no
// reader ever sees a half-written plan. Throws mcusplit::Error on I/O failure.
void write_plan_file(const Plan& plan, const quant::QGraph& full_graph, const std::string& path);
PlanFile read_plan_file(const std::string& path);

// The hash serialize_plan puts in the header.
uint64_t plan_hash(const Plan& plan, const quant::QGraph& full_graph);

// `skeleton` (a layer of PlanFile::graph, or of a full graph) holding only
// `slice`: conv weights_c0/c1 (fully connected weights_n0/n1) set to the
// slice's range and the constant vectors to its data, ready for the kernels.
// Throws mcusplit::Error if the slice does not fit the layer.
quant::QLayer sliced_layer(const quant::QLayer& skeleton, const LayerConstants& slice);

}  // namespace mcusplit::plan
