// The plan file's header and payload records as field lists
// (docs/plan_format.md): one visitor per record, in the style of
// kernels/op_params.h, from which plan_file.cpp's writer and reader, the
// least bytes of every record (the readers' count checks) and the docs test
// all follow. Adding a field is one line in a list here, one doc row and a
// format version bump.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// The constants of one weight slice (plan_file.h).
struct LayerConstants;

// What the 28-byte header holds.
struct PlanHeader {
  char magic[8] = {};
  uint32_t version = 0;
  uint64_t payload_bytes = 0;
  uint64_t hash = 0;  // FNV-1a 64 of the payload: the plan hash
  friend bool operator==(const PlanHeader&, const PlanHeader&) = default;
};

// ---- field lists ----
// Little-endian. A visitor has
//   magic(name, char (&)[8])                     8 ASCII bytes
//   kind(name, E&, E last)                       u8, an enum up to `last`
//   flag(name, bool&)                            u8, 0 or 1
//   i32 / u32 / i64 / u64 / f64(name, T&)        4 or 8 bytes (f64: the bit pattern)
//   str(name, std::string&)                      u32 byte count + bytes
//   box(name, Box&)                              i32 c0, c1, y0, y1, x0, x1
//   i8s / i32s / i64s(name, std::vector<T>&)     u32 count + elements
//   boxes(name, std::vector<Box>&)               u32 count + boxes
//   record(name, T&, type)                       T's own field list
//   list(name, std::vector<T>&, type)            u32 count + records by T's list
//   slices(name, std::vector<WeightSlice>&, std::vector<LayerConstants>&)
//                                                u32 count + slice records
//   sections(name, std::vector<ParticipantPlan>&, constants per participant)
//                                                u32 count + sections: each a u32
//                                                byte count + a participant record
//   skeleton(name, QGraph&)                      the .mq skeleton (quant/mq_codec.h)
// (const references when visiting const structs); `type` names the record
// in the docs and in errors. Fields in format order.

template <class P, class T>
concept FieldsOf = std::is_same_v<std::remove_const_t<P>, T>;

template <class V, class H>
requires FieldsOf<H, PlanHeader>
constexpr void visit_header(H& h, V& v) {
  v.magic("magic", h.magic);
  v.u32("format version", h.version);
  v.u64("payload length", h.payload_bytes);
  v.u64("plan hash", h.hash);
}

// Bytes of the header.
constexpr size_t plan_header_bytes() {
  struct {
    size_t bytes = 0;
    constexpr void magic(const char*, const char (&)[8]) { bytes += 8; }
    constexpr void u32(const char*, uint32_t) { bytes += 4; }
    constexpr void u64(const char*, uint64_t) { bytes += 8; }
  } counter;
  const PlanHeader h;
  visit_header(h, counter);
  return counter.bytes;
}

template <class V, class K>
requires FieldsOf<K, KernelRate>
void visit_fields(K& k, V& v) {
  v.str("kernel", k.kernel);
  v.f64("work_per_second", k.work_per_second);
  v.f64("seconds_per_output", k.seconds_per_output);
  v.f64("seconds_per_input", k.seconds_per_input);
  v.f64("seconds_per_pixel", k.seconds_per_pixel);
  v.f64("seconds_per_call", k.seconds_per_call);
}

template <class V, class D>
requires FieldsOf<D, DeviceSpec>
void visit_fields(D& d, V& v) {
  v.str("name", d.name);
  v.str("profile", d.profile);
  v.str("board", d.board);
  v.i64("ram_bytes", d.ram_bytes);
  v.i64("flash_bytes", d.flash_bytes);
  v.f64("macs_per_second", d.macs_per_second);
  v.f64("clock_hz", d.clock_hz);
  v.f64("link_bits_per_second", d.link_bits_per_second);
  v.f64("link_latency_s", d.link_latency_s);
  v.i64("link_frame_overhead_bytes", d.link_frame_overhead_bytes);
  v.i64("link_window_frames", d.link_window_frames);
  v.f64("link_ack_round_trip_s", d.link_ack_round_trip_s);
  v.list("kernel_rates", d.kernel_rates, "kernel rate");
}

template <class V, class C>
requires FieldsOf<C, ClusterSpec>
void visit_fields(C& c, V& v) {
  v.list("devices", c.devices, "device");
  v.kind("topology", c.topology, Topology::Bus);
}

template <class V, class C>
requires FieldsOf<C, CoordinatorSpec>
void visit_fields(C& c, V& v) {
  v.f64("link_bits_per_second", c.link_bits_per_second);
  v.f64("link_latency_s", c.link_latency_s);
  v.f64("macs_per_second", c.macs_per_second);
}

template <class V, class L>
requires FieldsOf<L, LayerPlan>
void visit_fields(L& lp, V& v) {
  v.kind("strategy", lp.strategy, Strategy::Tiled);
  v.boxes("boxes", lp.boxes);
  v.i32("tile_h", lp.tile_h);
  v.i32("tile_w", lp.tile_w);
  v.flag("stream_rows", lp.stream_rows);
  v.flag("in_place", lp.in_place);
}

template <class V, class B>
requires FieldsOf<B, PlanBuffer>
void visit_fields(B& b, V& v) {
  v.i32("tensor", b.tensor);
  v.box("box", b.box);
  v.i32("first_op", b.first_op);
  v.i32("last_op", b.last_op);
  v.i64("offset", b.offset);
}

template <class V, class O>
requires FieldsOf<O, PlanOp>
void visit_fields(O& op, V& v) {
  v.kind("kind", op.kind, OpKind::StoreOutput);
  v.i32("step", op.step);
  v.i32("layer", op.layer);
  v.i32("peer", op.peer);
  v.i32("tensor", op.tensor);
  v.box("box", op.box);
  v.i32("src_buffer", op.src_buffer);
  v.i32("dst_buffer", op.dst_buffer);
  v.i32s("inputs", op.inputs);
  v.i64("scratch_offset", op.scratch_offset);
  v.i64("scratch_bytes", op.scratch_bytes);
}

// A weight slice and its constants, one record.
template <class V, class S, class K>
requires FieldsOf<S, WeightSlice> && FieldsOf<K, LayerConstants>
void visit_fields(S& s, K& k, V& v) {
  v.i32("layer", s.layer);
  v.i32("c0", s.c0);
  v.i32("c1", s.c1);
  v.i64("bytes", s.bytes);
  v.i8s("weights", k.weights);
  v.i32s("bias", k.bias);
  v.i32s("multiplier", k.multiplier);
  v.i32s("shift", k.shift);
}

template <class V, class E>
requires FieldsOf<E, ParticipantEstimate>
void visit_fields(E& e, V& v) {
  v.i64("macs", e.macs);
  v.i64("bytes_sent", e.bytes_sent);
  v.i64("bytes_received", e.bytes_received);
  v.i64("messages_sent", e.messages_sent);
  v.f64("compute_s", e.compute_s);
  v.f64("finish_s", e.finish_s);
  v.i64s("live_bytes", e.live_bytes);
}

// A participant's section, with the constants of its weight slices.
template <class V, class P, class K>
requires FieldsOf<P, ParticipantPlan> && FieldsOf<K, std::vector<LayerConstants>>
void visit_fields(P& p, K& constants, V& v) {
  v.str("name", p.name);
  v.flag("coordinator", p.coordinator);
  v.i64("ram_bytes", p.ram_bytes);
  v.i64("flash_bytes", p.flash_bytes);
  v.list("buffers", p.buffers, "buffer");
  v.i64("arena_bytes", p.arena_bytes);
  v.i64("runtime_bytes", p.runtime_bytes);
  v.list("ops", p.ops, "op");
  v.slices("weights", p.weights, constants);
  v.i64("weight_bytes", p.weight_bytes);
  v.record("estimate", p.estimate, "estimate");
}

template <class V, class E>
requires FieldsOf<E, TimelineEvent>
void visit_fields(E& e, V& v) {
  v.i32("participant", e.participant);
  v.kind("kind", e.kind, OpKind::StoreOutput);
  v.i32("step", e.step);
  v.i32("peer", e.peer);
  v.f64("start_s", e.start_s);
  v.f64("end_s", e.end_s);
}

// The payload: the plan, the graph's skeleton (the writer is handed the
// full graph) and every participant's constants.
template <class V, class P, class G, class K>
requires FieldsOf<P, Plan> && FieldsOf<G, quant::QGraph> &&
    FieldsOf<K, std::vector<std::vector<LayerConstants>>>
void visit_payload(P& plan, G& graph, K& constants, V& v) {
  v.str("model_name", plan.model_name);
  v.u64("model_hash", plan.model_hash);
  v.str("strategy", plan.strategy);
  v.str("objective", plan.objective);
  v.record("cluster", plan.cluster, "cluster");
  v.record("coordinator", plan.coordinator_spec, "coordinator");
  v.i64("max_payload_bytes", plan.max_payload_bytes);
  v.skeleton("graph", graph);
  v.list("layer_plans", plan.layers, "layer_plan");
  v.sections("participants", plan.participants, constants);
  v.f64("estimated_latency_s", plan.estimated_latency_s);
  v.list("timeline", plan.timeline, "event");
}

}  // namespace mcusplit::plan
