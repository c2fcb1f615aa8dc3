#include "plan/plan_json.h"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace mcusplit::plan {
namespace {

using nlohmann::json;

// 64-bit hashes as 16 hex digits: JSON numbers lose precision past 2^53 in
// most readers.
std::string hex64(uint64_t v) {
  return fmt::format("{:016x}", v);
}

// Names by index, "" when the graph does not have the index (a plan dumped
// against a graph it was not made for still dumps).
template <typename T>
std::string name_at(const std::vector<T>& items, int index) {
  if (index < 0 || static_cast<size_t>(index) >= items.size()) return "";
  return items[static_cast<size_t>(index)].name;
}

json kernel_rates_json(const DeviceSpec& d) {
  json rates = json::object();
  for (const KernelRate& r : d.kernel_rates) {
    rates[r.kernel] = {{"work_per_second", r.work_per_second},
                       {"seconds_per_output", r.seconds_per_output},
                       {"seconds_per_input", r.seconds_per_input},
                       {"seconds_per_pixel", r.seconds_per_pixel},
                       {"seconds_per_call", r.seconds_per_call}};
  }
  return rates;
}

json cluster_json(const ClusterSpec& c) {
  json devices = json::array();
  for (const DeviceSpec& d : c.devices) {
    devices.push_back({{"name", d.name},
                       {"profile", d.profile},
                       {"board", d.board},
                       {"ram_bytes", d.ram_bytes},
                       {"flash_bytes", d.flash_bytes},
                       {"macs_per_second", d.macs_per_second},
                       {"clock_hz", d.clock_hz},
                       {"link_bits_per_second", d.link_bits_per_second},
                       {"link_latency_s", d.link_latency_s},
                       {"link_frame_overhead_bytes", d.link_frame_overhead_bytes},
                       {"link_window_frames", d.link_window_frames},
                       {"link_ack_round_trip_s", d.link_ack_round_trip_s},
                       {"kernel_rates", kernel_rates_json(d)}});
  }
  return {{"topology", topology_name(c.topology)}, {"devices", devices}};
}

json tensors_json(const quant::QGraph& g) {
  json tensors = json::array();
  for (const quant::QTensor& t : g.tensors) {
    tensors.push_back({{"name", t.name},
                       {"shape", {t.shape.c, t.shape.h, t.shape.w}},
                       {"bytes", t.bytes()},
                       {"scale", t.quant.scale},
                       {"zero_point", t.quant.zero_point}});
  }
  return tensors;
}

json layers_json(const Plan& plan, const quant::QGraph& g) {
  json layers = json::array();
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerPlan& lp = plan.layers[i];
    json boxes = json::array();
    for (const core::Box& b : lp.boxes) boxes.push_back(box_to_json(b));
    json layer = {{"index", i},
                  {"strategy", strategy_name(lp.strategy)},
                  {"boxes", boxes},
                  {"tile_h", lp.tile_h},
                  {"tile_w", lp.tile_w},
                  {"stream_rows", lp.stream_rows},
                  {"in_place", lp.in_place}};
    if (i < g.layers.size()) {
      const quant::QLayer& l = g.layers[i];
      layer["name"] = l.name;
      layer["op"] = quant::op_type_name(l.op);
      layer["inputs"] = l.inputs;
      layer["output"] = l.output;
    }
    layers.push_back(std::move(layer));
  }
  return layers;
}

json buffer_json(const PlanBuffer& b, const quant::QGraph& g) {
  return {{"tensor", b.tensor},        {"tensor_name", name_at(g.tensors, b.tensor)},
          {"box", box_to_json(b.box)}, {"first_op", b.first_op},
          {"last_op", b.last_op},      {"offset", b.offset},
          {"bytes", b.bytes()}};
}

json op_json(const PlanOp& op) {
  return {{"kind", op_kind_name(op.kind)},
          {"step", op.step},
          {"layer", op.layer},
          {"peer", op.peer},
          {"tensor", op.tensor},
          {"box", box_to_json(op.box)},
          {"src_buffer", op.src_buffer},
          {"dst_buffer", op.dst_buffer},
          {"inputs", op.inputs},
          {"scratch_offset", op.scratch_offset},
          {"scratch_bytes", op.scratch_bytes}};
}

json estimate_json(const ParticipantEstimate& e) {
  return {{"macs", e.macs},
          {"bytes_sent", e.bytes_sent},
          {"bytes_received", e.bytes_received},
          {"messages_sent", e.messages_sent},
          {"compute_s", e.compute_s},
          {"finish_s", e.finish_s},
          {"live_bytes", e.live_bytes}};
}

json participant_json(size_t index, const ParticipantPlan& p, const quant::QGraph& g) {
  json buffers = json::array();
  for (const PlanBuffer& b : p.buffers) buffers.push_back(buffer_json(b, g));
  json ops = json::array();
  for (const PlanOp& op : p.ops) ops.push_back(op_json(op));
  json weights = json::array();
  for (const WeightSlice& s : p.weights) {
    weights.push_back({{"layer", s.layer},
                       {"layer_name", name_at(g.layers, s.layer)},
                       {"c", {s.c0, s.c1}},
                       {"bytes", s.bytes}});
  }
  return {{"index", index},
          {"name", p.name},
          {"coordinator", p.coordinator},
          {"ram_bytes", p.ram_bytes},
          {"flash_bytes", p.flash_bytes},
          {"arena_bytes", p.arena_bytes},
          {"runtime_bytes", p.runtime_bytes},
          {"peak_ram_bytes", p.peak_ram_bytes()},
          {"weight_bytes", p.weight_bytes},
          {"buffers", buffers},
          {"ops", ops},
          {"weights", weights},
          {"estimate", estimate_json(p.estimate)}};
}

json timeline_json(const std::vector<TimelineEvent>& timeline) {
  json events = json::array();
  for (const TimelineEvent& e : timeline) {
    events.push_back({{"participant", e.participant},
                      {"kind", op_kind_name(e.kind)},
                      {"step", e.step},
                      {"peer", e.peer},
                      {"start_s", e.start_s},
                      {"end_s", e.end_s}});
  }
  return events;
}

}  // namespace

json box_to_json(const core::Box& b) {
  return {{"c", {b.c0, b.c1}}, {"y", {b.y0, b.y1}}, {"x", {b.x0, b.x1}}};
}

json plan_to_json(const Plan& plan, const quant::QGraph& graph, std::optional<uint64_t> hash) {
  const uint64_t h = hash ? *hash : plan_hash(plan, graph);
  json participants = json::array();
  for (size_t p = 0; p < plan.participants.size(); ++p) {
    participants.push_back(participant_json(p, plan.participants[p], graph));
  }
  return {{"format_version", kPlanFormatVersion},
          {"hash", hex64(h)},
          {"model",
           {{"name", plan.model_name},
            {"hash", hex64(plan.model_hash)},
            {"source_model", graph.source_model},
            {"input", graph.input},
            {"output", graph.output}}},
          {"strategy", plan.strategy},
          {"objective", plan.objective},
          {"cluster", cluster_json(plan.cluster)},
          {"coordinator",
           {{"link_bits_per_second", plan.coordinator_spec.link_bits_per_second},
            {"link_latency_s", plan.coordinator_spec.link_latency_s},
            {"macs_per_second", plan.coordinator_spec.macs_per_second}}},
          {"max_payload_bytes", plan.max_payload_bytes},
          {"estimated_latency_s", plan.estimated_latency_s},
          {"max_peak_ram_bytes", plan.max_peak_ram_bytes()},
          {"total_bytes_transferred", plan.total_bytes_transferred()},
          {"steps", plan.step_count()},
          {"tensors", tensors_json(graph)},
          {"layers", layers_json(plan, graph)},
          {"participants", participants},
          {"timeline", timeline_json(plan.timeline)}};
}

json plan_to_json(const PlanFile& file) {
  return plan_to_json(file.plan, file.graph, file.hash);
}

}  // namespace mcusplit::plan
