// A plan: which participant computes which box of every layer, what crosses
// the network, and each participant's static arena, as an ordered program per
// participant. docs/planner.md explains the model; docs/plan_format.md the
// file that holds it.
//
// Participants are the cluster's devices (indices 0..N-1, cluster order) and
// the coordinator (index N): the host that supplies the input, collects the
// output and, in the paper's scheme only, computes residual additions and
// global pooling.
//
// Time is counted in steps: step i (0 <= i < L, L = layer count) is layer i's
// phase, step L the output collection. Within a step a participant runs its
// ops in this order: sends, local copies, receives, then its computes (one
// per layer, or one per tile of a tiled run: several layers computed a tile
// at a time, see LayerPlan), among which a streamed run's copies. A buffer lives from the first to
// the last of its participant's ops that use it (inclusive op indices); a Receive's destination
// from the first op of the Receive's step, as credit for the step's data is granted on entering it
// and chunks land at once. Buffers whose lifetimes overlap never share arena bytes. A Compute's
// kernel scratch is in the arena too, live for that op only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/box.h"
#include "plan/cluster.h"

namespace mcusplit::plan {

// How a layer's output is divided among participants.
enum class Strategy : uint8_t {
  Single,   // one participant computes the whole output
  Channel,  // output channels split ("kernel-wise"; neuron-wise for fully connected)
  Spatial,  // output rows split in bands (slow devices share a band by columns);
            // halos received from neighbours
  Fused,    // row bands whose halos are recomputed from the band's own inputs
  Tiled,    // inside a tiled run: computed tile by tile with the run's last
            // layer (the next layer that is not Tiled), halos recomputed
};

const char* strategy_name(Strategy s);

// One region of one tensor held densely (NHWC over `box`) in an arena.
struct PlanBuffer {
  int tensor = -1;  // QTensor index
  core::Box box;
  int first_op = 0;  // lifetime: indices into the participant's ops, inclusive
  int last_op = 0;
  int64_t offset = 0;  // in the participant's arena

  int64_t bytes() const { return box.volume(); }
  friend bool operator==(const PlanBuffer&, const PlanBuffer&) = default;
};

enum class OpKind : uint8_t {
  LoadInput,    // coordinator: the graph input is written into `dst_buffer`
  Send,         // `box` of `tensor`, read from `src_buffer`, to participant `peer`
  Receive,      // `box` of `tensor` from `peer`, written into `dst_buffer`
  Copy,         // `box` of `tensor` from `src_buffer` to `dst_buffer` (same participant)
  Compute,      // `box` of layer `layer`'s output into `dst_buffer`, reading `inputs`
  StoreOutput,  // coordinator: the graph output is read from `src_buffer`
};

const char* op_kind_name(OpKind k);

struct PlanOp {
  OpKind kind = OpKind::Compute;
  int step = 0;
  int layer = -1;  // Compute
  int peer = -1;   // Send: destination, Receive: source
  int tensor = -1;
  core::Box box;  // region moved or computed (tensor coordinates)
  int src_buffer = -1;
  int dst_buffer = -1;
  std::vector<int> inputs;  // Compute: one buffer per layer input, in layer input order
  // Compute: the kernel's scratch (its record's scratch_bytes for `box`; 0 for
  // none) at scratch_offset in the arena, live for this op only.
  int64_t scratch_offset = 0;
  int64_t scratch_bytes = 0;
  friend bool operator==(const PlanOp&, const PlanOp&) = default;
};

// The constant data a participant keeps in flash for one layer it computes:
// output channels (neurons) [c0, c1) of the layer's weights, bias and
// requantization arrays. Layers without constants have no slice.
struct WeightSlice {
  int layer = -1;
  int32_t c0 = 0;
  int32_t c1 = 0;
  int64_t bytes = 0;
  friend bool operator==(const WeightSlice&, const WeightSlice&) = default;
};

// What the plan expects of a participant (the cost model's figures).
struct ParticipantEstimate {
  int64_t macs = 0;
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
  int64_t messages_sent = 0;
  double compute_s = 0;  // busy computing
  double finish_s = 0;   // its last op ends
  // The most bytes of buffers and kernel scratch live at any op of each step
  // (size L + 1): the memory profile.
  std::vector<int64_t> live_bytes;
  friend bool operator==(const ParticipantEstimate&, const ParticipantEstimate&) = default;
};

struct ParticipantPlan {
  std::string name;
  bool coordinator = false;
  int64_t ram_bytes = 0;    // budget (0 = unbounded: the coordinator)
  int64_t flash_bytes = 0;  // budget (0 = unbounded)
  std::vector<PlanBuffer> buffers;
  int64_t arena_bytes = 0;  // max(offset + bytes) over buffers and kernel scratch
  // The device runtime's own RAM outside the arena (stack, frame buffers,
  // session state; core/device_runtime_ram.h); 0 for the coordinator.
  int64_t runtime_bytes = 0;
  std::vector<PlanOp> ops;  // in execution order
  std::vector<WeightSlice> weights;
  int64_t weight_bytes = 0;  // sum of weights[].bytes: flash used
  ParticipantEstimate estimate;
  // The device's whole RAM the plan needs: what ram_bytes must hold.
  int64_t peak_ram_bytes() const { return arena_bytes + runtime_bytes; }
  friend bool operator==(const ParticipantPlan&, const ParticipantPlan&) = default;
};

// The peers `pp` receives from in the run of same-step ops that begins at
// its op `first` (in the order of their first Receive); `*end` is set to
// where that run ends. On entering the run a participant grants each of
// them one Credit frame (device_runtime.cpp grant_step).
std::vector<int> step_receive_peers(const ParticipantPlan& pp, size_t first, size_t* end);

// A layer's division: for each participant the output box it computes
// (empty if none). Boxes of Single, Channel and Spatial layers tile the
// output; Fused boxes may overlap (recomputed halos).
//
// A tiled run is a maximal stretch of Tiled layers and the layer after it,
// its last: each participant computes its box of the last layer in tiles of
// tile_h x tile_w output pixels (0: the box's whole height or width), and
// for each tile, first to last, every layer of the run on exactly the box
// the run's later layers read of it, into a buffer of that tile only. The
// run runs at its last layer's step; what Tiled layers produce is read only
// inside the run. A Tiled layer's box is the bounding box of its tiles.
//
// A run whose last layer has stream_rows set goes down each column of its
// tiles and does not recompute halos between rows: each Tiled layer's
// buffer for a tile first receives, by a Copy, the rows it shares with the
// tile above's buffer, and only the rows below them are computed, so a
// layer only ever exists as a window of rows (tiled_runs.h, run_schedule).
struct LayerPlan {
  Strategy strategy = Strategy::Single;
  std::vector<core::Box> boxes;  // per participant
  int32_t tile_h = 0;            // the last layer of a run: its tile size
  int32_t tile_w = 0;
  bool stream_rows = false;  // the last layer of a run: rows streamed
  // Where a Compute of this layer is the last reader of its input buffer and
  // the operator has an in-place variant (depthwise convolution), its output
  // buffer takes the input's bytes (MCUNetV2's in-place depthwise).
  bool in_place = false;
  friend bool operator==(const LayerPlan&, const LayerPlan&) = default;
};

// One interval of the estimated timeline.
struct TimelineEvent {
  int participant = -1;
  OpKind kind = OpKind::Compute;  // Compute, Send or Receive
  int step = 0;
  int peer = -1;
  double start_s = 0;
  double end_s = 0;
  friend bool operator==(const TimelineEvent&, const TimelineEvent&) = default;
};

// The coordinator is a host: no RAM or flash budget, a fast link, and a
// compute rate for the layers the paper's scheme gives it.
struct CoordinatorSpec {
  double link_bits_per_second = 1e9;
  double link_latency_s = 100e-6;
  double macs_per_second = 2e9;
  friend bool operator==(const CoordinatorSpec&, const CoordinatorSpec&) = default;
};

struct Plan {
  std::string model_name;   // QGraph::source_model
  uint64_t model_hash = 0;  // of the .mq bytes (quant::serialize_mq)
  std::string strategy;     // "auto" or "paper"
  std::string objective;    // "latency" or "memory"
  ClusterSpec cluster;
  CoordinatorSpec coordinator_spec;
  int64_t max_payload_bytes = 1372;           // per frame: one TCP segment (docs/protocol.md)
  std::vector<LayerPlan> layers;              // parallel to QGraph::layers
  std::vector<ParticipantPlan> participants;  // devices, then the coordinator

  double estimated_latency_s = 0;
  std::vector<TimelineEvent> timeline;

  int device_count() const { return cluster.device_count(); }
  int coordinator() const { return cluster.device_count(); }
  int step_count() const { return static_cast<int>(layers.size()) + 1; }
  // Over devices (not the coordinator).
  int64_t max_peak_ram_bytes() const;
  int64_t total_bytes_transferred() const;  // every Send, counted once
  // The layer whose step holds participant p's most live bytes (the output
  // collection step counts as the last layer's).
  int peak_layer(int p) const;
  friend bool operator==(const Plan&, const Plan&) = default;
};

}  // namespace mcusplit::plan
