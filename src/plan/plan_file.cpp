#include "plan/plan_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <tuple>
#include <utility>

#include "common/byte_stream.h"
#include "common/error.h"
#include "kernels/op_registry.h"
#include "model/file_io.h"
#include "plan/layer_geometry.h"
#include "quant/mq_codec.h"
#include "quant/mq_format.h"

namespace mcusplit::plan {
namespace {

using quant::ByteReader;
using quant::ByteWriter;
using quant::QGraph;
using quant::QLayer;

// ---- the constants of a channel slice ----

// The output channels (neurons) whose constants the layer's arrays hold.
std::pair<int32_t, int32_t> held_channels(const QLayer& l) {
  const kernels::ChannelRange r = l.record().channel_constants->slice(l);
  return {r.c0, r.c1};
}

bool per_tensor_requant(const QLayer& l) {
  return has_channel_constants(l) && l.record().channel_constants->per_tensor_requant(l);
}

// Weights per output channel, or -1 for params no kernel could run (a
// corrupt file must not make us divide by zero or overflow).
int64_t weights_per_channel(const QLayer& l) {
  const kernels::ConstantCounts n = l.record().channel_constants->counts(l);
  const auto [c0, c1] = held_channels(l);
  return n.ok ? n.weights / (int64_t{c1} - c0) : -1;
}

// Empty if [c0, c1) is a non-empty range of the channels `l` holds and
// `l` has constants; otherwise the problem.
std::string range_problem(const QLayer& l, int32_t c0, int32_t c1) {
  if (!has_channel_constants(l)) {
    return fmt::format("layer '{}' ({}) has no constants to slice", l.name,
                       quant::op_type_name(l.op));
  }
  const auto [h0, h1] = held_channels(l);
  if (!(h0 <= c0 && c0 < c1 && c1 <= h1)) {
    return fmt::format("channels [{}, {}) of layer '{}' are outside [{}, {}) or empty", c0, c1,
                       l.name, h0, h1);
  }
  if (weights_per_channel(l) < 0) return fmt::format("layer '{}' has bad kernel params", l.name);
  return "";
}

// Empty if the arrays hold exactly `channels` channels of `l`'s constants.
std::string array_problem(const QLayer& l, int64_t channels, size_t weights, size_t bias,
                          size_t multiplier, size_t shift) {
  const auto row = static_cast<uint64_t>(weights_per_channel(l));
  const auto n = static_cast<uint64_t>(channels);
  const uint64_t requant = per_tensor_requant(l) ? 1 : n;
  // Compared by division: channels * row may overflow for corrupt params.
  if (weights % n != 0 || weights / n != row) {
    return fmt::format("layer '{}': {} weights for {} channels of {}", l.name, weights, n, row);
  }
  if (bias != 0 && bias != n) return fmt::format("layer '{}': {} bias values", l.name, bias);
  if (multiplier != requant || shift != requant) {
    return fmt::format("layer '{}': {} multipliers and {} shifts, expected {}", l.name, multiplier,
                       shift, requant);
  }
  return "";
}

std::string constants_problem(const QLayer& skeleton, const LayerConstants& k) {
  std::string problem = range_problem(skeleton, k.c0, k.c1);
  if (!problem.empty()) return problem;
  return array_problem(skeleton, int64_t{k.c1} - k.c0, k.weights.size(), k.bias.size(),
                       k.multiplier.size(), k.shift.size());
}

template <typename T>
std::vector<T> elements(const std::vector<T>& v, int64_t from, int64_t to) {
  return std::vector<T>(v.begin() + from, v.begin() + to);
}

// Channels [c0, c1) of a layer that holds its constants; `where` prefixes
// errors.
LayerConstants slice_constants(const QLayer& full, int layer, int32_t c0, int32_t c1,
                               const std::string& where) {
  std::string problem = range_problem(full, c0, c1);
  const auto [h0, h1] = held_channels(full);
  if (problem.empty()) {
    problem = array_problem(full, int64_t{h1} - h0, full.weights.size(), full.bias.size(),
                            full.multiplier.size(), full.shift.size());
    if (!problem.empty()) problem += " (the graph lacks its constants)";
  }
  if (!problem.empty()) throw Error(fmt::format("{}: {}", where, problem));
  const int64_t row = weights_per_channel(full);
  const int64_t from = c0 - h0;
  const int64_t to = c1 - h0;
  LayerConstants k;
  k.layer = layer;
  k.c0 = c0;
  k.c1 = c1;
  k.weights = elements(full.weights, from * row, to * row);
  if (!full.bias.empty()) k.bias = elements(full.bias, from, to);
  // One multiplier and shift serve every neuron: keep that one.
  const int64_t r0 = per_tensor_requant(full) ? 0 : from;
  const int64_t r1 = per_tensor_requant(full) ? 1 : to;
  k.multiplier = elements(full.multiplier, r0, r1);
  k.shift = elements(full.shift, r0, r1);
  return k;
}

// ---- structural checks shared by writer and reader ----

// Throws "<prefix>: <problem>" unless every index in the plan points into
// the graph or the plan, so the runtime can trust a parsed plan.
class PlanChecker {
 public:
  PlanChecker(const Plan& plan, const QGraph& graph, std::string prefix)
      : plan_(plan), g_(graph), prefix_(std::move(prefix)) {}

  void run() const {
    for (const quant::QTensor& t : g_.tensors) check_tensor(t);
    if (!tensor_ok(g_.input) || !tensor_ok(g_.output)) {
      fail(fmt::format("graph input {} or output {} out of range", g_.input, g_.output));
    }
    for (size_t i = 0; i < g_.layers.size(); ++i) check_graph_layer(g_.layers[i]);
    if (plan_.participants.size() != plan_.cluster.devices.size() + 1) {
      fail(fmt::format("{} participants for {} devices (expected devices + coordinator)",
                       plan_.participants.size(), plan_.cluster.devices.size()));
    }
    if (plan_.layers.size() != g_.layers.size()) {
      fail(fmt::format("{} layer plans for {} layers", plan_.layers.size(), g_.layers.size()));
    }
    for (size_t i = 0; i < plan_.layers.size(); ++i) check_layer_plan(i);
    for (size_t p = 0; p < plan_.participants.size(); ++p) check_participant(p);
    for (size_t i = 0; i < plan_.timeline.size(); ++i) check_event(i);
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(fmt::format("{}: {}", prefix_, problem));
  }
  static bool in(int i, size_t n) { return i >= 0 && static_cast<size_t>(i) < n; }
  bool tensor_ok(int t) const { return in(t, g_.tensors.size()); }
  bool participant_ok(int p) const { return in(p, plan_.participants.size()); }
  bool step_ok(int s) const { return s >= 0 && s < plan_.step_count(); }
  const core::TensorShape3& shape(int t) const { return g_.tensors[static_cast<size_t>(t)].shape; }

  // Positive dims and at most 2^31 - 1 elements, so box volumes inside the
  // tensor never overflow int32.
  void check_tensor(const quant::QTensor& t) const {
    const auto [c, h, w] = t.shape;
    const bool ok =
        c > 0 && h > 0 && w > 0 && int64_t{c} * h <= INT32_MAX && int64_t{c} * h * w <= INT32_MAX;
    if (!ok) fail(fmt::format("tensor '{}' has a bad shape {}x{}x{}", t.name, c, h, w));
  }

  void check_graph_layer(const QLayer& l) const {
    if (!tensor_ok(l.output)) fail(fmt::format("layer '{}': output out of range", l.name));
    for (int t : l.inputs) {
      if (!tensor_ok(t)) fail(fmt::format("layer '{}': input {} out of range", l.name, t));
    }
    // Kernels index params per input (concat) or read two inputs (add).
    const kernels::OpRegistration& record = l.record();
    const size_t inputs = record.variadic_inputs ? l.concat.size() : size_t(record.input_count);
    if (l.inputs.size() != inputs || inputs == 0) {
      fail(fmt::format("layer '{}' ({}): {} inputs, expected {}", l.name, quant::op_type_name(l.op),
                       l.inputs.size(), inputs));
    }
  }

  void check_layer_plan(size_t i) const {
    const LayerPlan& lp = plan_.layers[i];
    const QLayer& l = g_.layers[i];
    if (lp.boxes.size() != plan_.participants.size()) {
      fail(fmt::format("layer '{}': {} boxes for {} participants", l.name, lp.boxes.size(),
                       plan_.participants.size()));
    }
    for (const core::Box& b : lp.boxes) {
      if (!core::inside(shape(l.output), b)) {
        fail(fmt::format("layer '{}': a box lies outside its output", l.name));
      }
    }
    if (lp.tile_h < 0 || lp.tile_w < 0 ||
        (lp.strategy == Strategy::Tiled && (lp.tile_h != 0 || lp.tile_w != 0))) {
      fail(fmt::format("layer '{}': tile size {}x{} (only a run's last layer has one, 0 or more)",
                       l.name, lp.tile_h, lp.tile_w));
    }
    if (lp.stream_rows && (lp.strategy == Strategy::Tiled || i == 0 ||
                           plan_.layers[i - 1].strategy != Strategy::Tiled)) {
      fail(
          fmt::format("layer '{}': streams rows but is not the last layer of a tiled run", l.name));
    }
    if (lp.in_place && kernels::in_place_scratch_bytes(l.record(), l.view(),
                                                       core::full_box(shape(l.output))) <= 0) {
      fail(fmt::format("layer '{}': planned in place, but its {} cannot run in place", l.name,
                       quant::op_type_name(l.op)));
    }
    if (lp.strategy == Strategy::Tiled && i + 1 == plan_.layers.size()) {
      fail(fmt::format("layer '{}': the last layer cannot be inside a tiled run", l.name));
    }
  }

  void check_participant(size_t index) const {
    const ParticipantPlan& p = plan_.participants[index];
    const std::string who = fmt::format("participant {} ('{}')", index, p.name);
    if (p.coordinator != (index + 1 == plan_.participants.size())) {
      fail(who + ": the coordinator must be the last participant, and only it");
    }
    if (p.runtime_bytes < 0 || (p.coordinator && p.runtime_bytes != 0)) {
      fail(fmt::format("{}: runtime RAM of {} bytes", who, p.runtime_bytes));
    }
    for (size_t b = 0; b < p.buffers.size(); ++b) {
      const PlanBuffer& buf = p.buffers[b];
      const std::string what = fmt::format("{} buffer {}", who, b);
      if (!tensor_ok(buf.tensor)) fail(fmt::format("{}: tensor {} out of range", what, buf.tensor));
      if (!core::inside(shape(buf.tensor), buf.box)) fail(what + ": box outside its tensor");
      if (buf.first_op < 0 || buf.first_op > buf.last_op ||
          static_cast<size_t>(buf.last_op) >= p.ops.size()) {
        fail(fmt::format("{}: lifetime [{}, {}] is not a range of its {} ops", what, buf.first_op,
                         buf.last_op, p.ops.size()));
      }
      if (buf.offset < 0 || buf.offset > p.arena_bytes ||
          buf.bytes() > p.arena_bytes - buf.offset) {
        fail(fmt::format("{}: bytes [{}, {}) outside the {}-byte arena", what, buf.offset,
                         buf.offset + buf.bytes(), p.arena_bytes));
      }
    }
    for (size_t o = 0; o < p.ops.size(); ++o) check_op(index, who, o);
    for (size_t w = 0; w < p.weights.size(); ++w) {
      const WeightSlice& s = p.weights[w];
      const std::string what = fmt::format("{} weight slice {}", who, w);
      if (!in(s.layer, g_.layers.size())) {
        fail(fmt::format("{}: layer {} out of range", what, s.layer));
      }
      const std::string problem =
          range_problem(g_.layers[static_cast<size_t>(s.layer)], s.c0, s.c1);
      if (!problem.empty()) fail(what + ": " + problem);
    }
    const size_t live = p.estimate.live_bytes.size();
    if (live != 0 && live != static_cast<size_t>(plan_.step_count())) {
      fail(fmt::format("{}: {} live-bytes entries for {} steps", who, live, plan_.step_count()));
    }
  }

  void check_op(size_t participant, const std::string& who, size_t index) const {
    const ParticipantPlan& p = plan_.participants[participant];
    const PlanOp& op = p.ops[index];
    const std::string what = fmt::format("{} op {} ({})", who, index, op_kind_name(op.kind));
    const size_t buffers = p.buffers.size();
    const bool needs_src =
        op.kind == OpKind::Send || op.kind == OpKind::Copy || op.kind == OpKind::StoreOutput;
    const bool needs_dst = op.kind == OpKind::LoadInput || op.kind == OpKind::Receive ||
                           op.kind == OpKind::Copy || op.kind == OpKind::Compute;
    const bool needs_peer = op.kind == OpKind::Send || op.kind == OpKind::Receive;
    const bool needs_tensor = needs_peer || op.kind == OpKind::Copy;
    auto check = [&](int value, bool needed, size_t n, const char* field) {
      if ((needed || value != -1) && !in(value, n)) {
        fail(fmt::format("{}: {} {} out of range", what, field, value));
      }
    };
    if (!step_ok(op.step)) fail(fmt::format("{}: step {} out of range", what, op.step));
    check(op.layer, op.kind == OpKind::Compute, g_.layers.size(), "layer");
    check(op.peer, needs_peer, plan_.participants.size(), "peer");
    check(op.tensor, needs_tensor, g_.tensors.size(), "tensor");
    check(op.src_buffer, needs_src, buffers, "source buffer");
    check(op.dst_buffer, needs_dst, buffers, "destination buffer");
    // -1: the op's box reads nothing of that input (a concat input elsewhere).
    for (int b : op.inputs) check(b, false, buffers, "input buffer");
    if (needs_peer && static_cast<size_t>(op.peer) == participant) fail(what + ": peer is itself");
    if (op.tensor != -1 && !core::inside(shape(op.tensor), op.box)) {
      fail(what + ": box outside its tensor");
    }
    if (op.kind == OpKind::Compute &&
        !core::inside(shape(g_.layers[static_cast<size_t>(op.layer)].output), op.box)) {
      fail(what + ": box outside the layer's output");
    }
    if (op.kind == OpKind::Compute &&
        op.inputs.size() != g_.layers[static_cast<size_t>(op.layer)].inputs.size()) {
      fail(fmt::format("{}: {} input buffers for a layer of {} inputs", what, op.inputs.size(),
                       g_.layers[static_cast<size_t>(op.layer)].inputs.size()));
    }
    if (op.kind != OpKind::Compute && (op.scratch_offset != 0 || op.scratch_bytes != 0)) {
      fail(what + ": kernel scratch on an op that computes nothing");
    }
    if (op.scratch_bytes < 0 || op.scratch_offset < 0 || op.scratch_offset % 4 != 0 ||
        op.scratch_bytes > p.arena_bytes - op.scratch_offset) {
      fail(
          fmt::format("{}: kernel scratch of {} bytes at offset {} is not 4-byte aligned inside "
                      "the arena of {} bytes",
                      what, op.scratch_bytes, op.scratch_offset, p.arena_bytes));
    }
  }

  void check_event(size_t i) const {
    const TimelineEvent& e = plan_.timeline[i];
    if (!participant_ok(e.participant) || (e.peer != -1 && !participant_ok(e.peer)) ||
        !step_ok(e.step)) {
      fail(fmt::format("timeline event {}: participant {}, peer {} or step {} out of range", i,
                       e.participant, e.peer, e.step));
    }
  }

  const Plan& plan_;
  const QGraph& g_;
  std::string prefix_;
};

// ---- the codec of the field lists (plan_file_records.h, docs/plan_format.md) ----

void put_skeleton(ByteWriter& w, const QGraph& g) {
  w.str(g.source_model);
  w.i32(g.input);
  w.i32(g.output);
  w.u32(static_cast<uint32_t>(g.tensors.size()));
  for (const quant::QTensor& t : g.tensors) quant::put_tensor(w, t);
  w.u32(static_cast<uint32_t>(g.layers.size()));
  for (const QLayer& l : g.layers) quant::put_layer_skeleton(w, l);
}
QGraph get_skeleton(ByteReader& r) {
  QGraph g;
  g.source_model = r.str("the source model name");
  g.input = r.i32("the graph input");
  g.output = r.i32("the graph output");
  const uint32_t tensors = r.count("the tensor table", quant::kMqTensorMinBytes);
  for (uint32_t i = 0; i < tensors; ++i) g.tensors.push_back(quant::get_tensor(r));
  const uint32_t layers = r.count("the layer table", quant::kMqLayerSkeletonMinBytes);
  for (uint32_t i = 0; i < layers; ++i) {
    g.layers.push_back(quant::get_layer_skeleton(r, "plan file"));
  }
  return g;
}

constexpr size_t kBoxBytes = 24;  // six i32

// The least bytes of a record (every list and string empty): what a count
// of them must leave in the payload.
struct LeastBytes {
  size_t bytes = 0;
  template <class... T>
  void magic(const char*, const T&...) {
    bytes += 8;
  }
  template <class... T>
  void kind(const char*, const T&...) {
    bytes += 1;
  }
  template <class T>
  void flag(const char*, T&) {
    bytes += 1;
  }
  template <class T>
  void i32(const char*, T&) {
    bytes += 4;
  }
  template <class T>
  void u32(const char*, T&) {
    bytes += 4;
  }
  template <class T>
  void i64(const char*, T&) {
    bytes += 8;
  }
  template <class T>
  void u64(const char*, T&) {
    bytes += 8;
  }
  template <class T>
  void f64(const char*, T&) {
    bytes += 8;
  }
  template <class T>
  void box(const char*, T&) {
    bytes += kBoxBytes;
  }
  template <class T>
  void record(const char*, T& r, const char*) {
    visit_fields(r, *this);
  }
  // Strings, arrays, lists, sections and the skeleton: a u32 count at least.
  template <class... T>
  void str(const char*, const T&...) {
    bytes += 4;
  }
  template <class... T>
  void i8s(const char*, const T&...) {
    bytes += 4;
  }
  template <class... T>
  void i32s(const char*, const T&...) {
    bytes += 4;
  }
  template <class... T>
  void i64s(const char*, const T&...) {
    bytes += 4;
  }
  template <class... T>
  void boxes(const char*, const T&...) {
    bytes += 4;
  }
  template <class... T>
  void list(const char*, const T&...) {
    bytes += 4;
  }
  template <class... T>
  void slices(const char*, const T&...) {
    bytes += 4;
  }
};

template <class... T>
size_t least_bytes() {
  std::tuple<T...> record;
  LeastBytes counter;
  std::apply([&](auto&... fields) { visit_fields(fields..., counter); }, record);
  return counter.bytes;
}

class FieldWriter {
 public:
  explicit FieldWriter(ByteWriter& w) : w_(w) {}
  void magic(const char*, const char (&m)[8]) {
    for (char c : m) w_.u8(static_cast<uint8_t>(c));
  }
  template <class E>
  void kind(const char*, E v, E) {
    w_.u8(static_cast<uint8_t>(v));
  }
  void flag(const char*, bool v) { w_.u8(v ? 1 : 0); }
  void i32(const char*, int32_t v) { w_.i32(v); }
  void u32(const char*, uint32_t v) { w_.u32(v); }
  void i64(const char*, int64_t v) { w_.u64(static_cast<uint64_t>(v)); }
  void u64(const char*, uint64_t v) { w_.u64(v); }
  void f64(const char*, double v) { w_.u64(std::bit_cast<uint64_t>(v)); }  // bit pattern
  void str(const char*, const std::string& s) { w_.str(s); }
  void box(const char*, const core::Box& b) {
    for (int32_t v : {b.c0, b.c1, b.y0, b.y1, b.x0, b.x1}) w_.i32(v);
  }
  void i8s(const char*, const std::vector<int8_t>& v) { w_.i8_array(v); }
  void i32s(const char*, const std::vector<int32_t>& v) { w_.i32_array(v); }
  void i64s(const char*, const std::vector<int64_t>& v) {
    count(v.size());
    for (int64_t x : v) i64(nullptr, x);
  }
  void boxes(const char*, const std::vector<core::Box>& v) {
    count(v.size());
    for (const core::Box& b : v) box(nullptr, b);
  }
  template <class T>
  void record(const char*, const T& r, const char*) {
    visit_fields(r, *this);
  }
  template <class T>
  void list(const char*, const std::vector<T>& items, const char*) {
    count(items.size());
    for (const T& item : items) visit_fields(item, *this);
  }
  void slices(const char*, const std::vector<WeightSlice>& s,
              const std::vector<LayerConstants>& constants) {
    count(s.size());
    for (size_t i = 0; i < s.size(); ++i) visit_fields(s[i], constants[i], *this);
  }
  // Each participant behind its byte count, so a reader can skip to its own.
  void sections(const char*, const std::vector<ParticipantPlan>& participants,
                const std::vector<std::vector<LayerConstants>>& constants) {
    count(participants.size());
    for (size_t p = 0; p < participants.size(); ++p) {
      ByteWriter section;
      FieldWriter fields(section);
      visit_fields(participants[p], constants[p], fields);
      if (section.bytes().size() > std::numeric_limits<uint32_t>::max()) {
        throw Error(fmt::format("cannot serialize plan: participant '{}' needs over 4 GiB",
                                participants[p].name));
      }
      w_.str(section.bytes());
    }
  }
  void skeleton(const char*, const QGraph& g) { put_skeleton(w_, g); }

 private:
  void count(size_t n) { w_.u32(static_cast<uint32_t>(n)); }
  ByteWriter& w_;
};

void expect_consumed(const ByteReader& r, const char* what) {
  if (r.remaining() != 0) {
    throw Error(fmt::format("'{}': {} unexpected bytes after {} (corrupt plan file)", r.origin(),
                            r.remaining(), what));
  }
}

// Reads what FieldWriter writes, every read checked against the end of the
// bytes and every count against the bytes left. `type_` is the record being
// read, for errors.
class FieldReader {
 public:
  explicit FieldReader(ByteReader& r, const char* type = "payload") : r_(r), type_(type) {}
  void magic(const char* name, char (&m)[8]) {
    for (char& c : m) c = static_cast<char>(r_.u8(name));
  }
  template <class E>
  void kind(const char* name, E& v, E last) {
    const uint8_t u = r_.u8(name);
    if (u > static_cast<uint8_t>(last)) {
      throw Error(fmt::format("'{}': unknown {} {} {} (corrupt or newer plan file)", r_.origin(),
                              type_, name, u));
    }
    v = static_cast<E>(u);
  }
  void flag(const char* name, bool& v) {
    const uint8_t u = r_.u8(name);
    if (u > 1) {
      throw Error(
          fmt::format("'{}': {} {} is {}, not 0 or 1 (corrupt plan)", r_.origin(), type_, name, u));
    }
    v = u == 1;
  }
  void i32(const char* name, int32_t& v) { v = r_.i32(name); }
  void u32(const char* name, uint32_t& v) { v = r_.u32(name); }
  void i64(const char* name, int64_t& v) { v = static_cast<int64_t>(r_.u64(name)); }
  void u64(const char* name, uint64_t& v) { v = r_.u64(name); }
  void f64(const char* name, double& v) { v = std::bit_cast<double>(r_.u64(name)); }
  void str(const char* name, std::string& s) { s = r_.str(name); }
  void box(const char* name, core::Box& b) {
    for (int32_t* v : {&b.c0, &b.c1, &b.y0, &b.y1, &b.x0, &b.x1}) *v = r_.i32(name);
  }
  void i8s(const char* name, std::vector<int8_t>& v) { v = r_.i8_array(name); }
  void i32s(const char* name, std::vector<int32_t>& v) { v = r_.i32_array(name); }
  void i64s(const char* name, std::vector<int64_t>& v) {
    v.resize(r_.count(name, 8));
    for (int64_t& x : v) i64(name, x);
  }
  void boxes(const char* name, std::vector<core::Box>& v) {
    v.resize(r_.count(name, kBoxBytes));
    for (core::Box& b : v) box(name, b);
  }
  template <class T>
  void record(const char*, T& r, const char* type) {
    FieldReader fields(r_, type);
    visit_fields(r, fields);
  }
  template <class T>
  void list(const char* name, std::vector<T>& items, const char* type) {
    items.resize(r_.count(name, least_bytes<T>()));
    FieldReader fields(r_, type);
    for (T& item : items) visit_fields(item, fields);
  }
  void slices(const char* name, std::vector<WeightSlice>& s,
              std::vector<LayerConstants>& constants) {
    const uint32_t n = r_.count(name, least_bytes<WeightSlice, LayerConstants>());
    s.resize(n);
    constants.resize(n);
    FieldReader fields(r_, "slice");
    for (uint32_t i = 0; i < n; ++i) {
      visit_fields(s[i], constants[i], fields);
      constants[i].layer = s[i].layer;
      constants[i].c0 = s[i].c0;
      constants[i].c1 = s[i].c1;
    }
  }
  void sections(const char* name, std::vector<ParticipantPlan>& participants,
                std::vector<std::vector<LayerConstants>>& constants) {
    const uint32_t n = r_.count(name, 4);
    participants.resize(n);
    constants.resize(n);
    for (uint32_t p = 0; p < n; ++p) {
      const std::string section = r_.str("a participant section");
      ByteReader s(section.data(), section.size(), r_.origin());
      FieldReader fields(s, "participant");
      visit_fields(participants[p], constants[p], fields);
      expect_consumed(s, "a participant section");
    }
  }
  void skeleton(const char*, QGraph& g) { g = get_skeleton(r_); }

 private:
  ByteReader& r_;
  const char* type_;
};

// Checks the plan against the graph and slices every participant's
// constants out of it; throws before anything is encoded.
std::vector<std::vector<LayerConstants>> collect_constants(const Plan& plan, const QGraph& g) {
  const std::string prefix = "cannot serialize plan";
  PlanChecker(plan, g, prefix).run();
  std::vector<std::vector<LayerConstants>> constants(plan.participants.size());
  for (size_t p = 0; p < plan.participants.size(); ++p) {
    const ParticipantPlan& part = plan.participants[p];
    for (size_t i = 0; i < part.weights.size(); ++i) {
      const WeightSlice& s = part.weights[i];
      const std::string where =
          fmt::format("{}: participant {} ('{}') weight slice {}", prefix, p, part.name, i);
      constants[p].push_back(
          slice_constants(g.layers[static_cast<size_t>(s.layer)], s.layer, s.c0, s.c1, where));
    }
  }
  return constants;
}

std::string serialize_payload(const Plan& plan, const QGraph& g) {
  const auto constants = collect_constants(plan, g);
  ByteWriter w;
  FieldWriter fields(w);
  visit_payload(plan, g, constants, fields);
  return w.take();
}

PlanFile parse_payload(ByteReader& r) {
  PlanFile f;
  FieldReader fields(r);
  visit_payload(f.plan, f.graph, f.constants, fields);
  expect_consumed(r, "the timeline");
  return f;
}

// ByteReader words its truncation errors for the .mq format it was written
// for; a plan file's reader should not blame an .mq.
Error reworded(const Error& e) {
  std::string message = e.what();
  const std::string from = ".mq payload";
  if (const size_t at = message.find(from); at != std::string::npos) {
    message.replace(at, from.size(), "plan payload");
  }
  return Error(message, e.exit_code());
}

}  // namespace

uint64_t model_hash(const quant::QGraph& graph) {
  const std::string mq = quant::serialize_mq(graph);
  return fnv1a64(mq.data(), mq.size());
}

uint64_t fnv1a64(const char* data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= static_cast<uint8_t>(data[i]);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string serialize_plan(const Plan& plan, const QGraph& full_graph) {
  const std::string payload = serialize_payload(plan, full_graph);
  PlanHeader h;
  std::copy(std::begin(kPlanMagic), std::end(kPlanMagic), std::begin(h.magic));
  h.version = kPlanFormatVersion;
  h.payload_bytes = payload.size();
  h.hash = fnv1a64(payload.data(), payload.size());
  ByteWriter header;
  FieldWriter fields(header);
  visit_header(h, fields);
  return header.bytes() + payload;
}

uint64_t plan_hash(const Plan& plan, const QGraph& full_graph) {
  const std::string payload = serialize_payload(plan, full_graph);
  return fnv1a64(payload.data(), payload.size());
}

PlanFile parse_plan(const std::string& bytes, const std::string& origin) {
  if (bytes.size() < sizeof kPlanMagic ||
      std::memcmp(bytes.data(), kPlanMagic, sizeof kPlanMagic) != 0) {
    throw Error(fmt::format("'{}' is not a plan file (bad magic; expected \"MCUSPLPL\")", origin));
  }
  if (bytes.size() < kPlanHeaderBytes) {
    throw Error(fmt::format("'{}': plan file truncated inside its {}-byte header", origin,
                            kPlanHeaderBytes));
  }
  ByteReader header_bytes(bytes.data(), kPlanHeaderBytes, origin);
  PlanHeader h;
  FieldReader fields(header_bytes, "header");
  visit_header(h, fields);
  const uint32_t version = h.version;
  const uint64_t length = h.payload_bytes;
  const uint64_t hash = h.hash;
  if (version != kPlanFormatVersion) {
    throw Error(
        fmt::format("'{}': unsupported plan format version {} (this build reads version {})",
                    origin, version, kPlanFormatVersion));
  }
  const size_t have = bytes.size() - kPlanHeaderBytes;
  if (have < length) {
    throw Error(fmt::format("'{}': plan file truncated: payload of {} bytes, header says {}",
                            origin, have, length));
  }
  if (have > length) {
    throw Error(fmt::format("'{}': plan file has {} bytes beyond the payload its header describes",
                            origin, have - length));
  }
  const char* payload = bytes.data() + kPlanHeaderBytes;
  const uint64_t actual = fnv1a64(payload, have);
  if (actual != hash) {
    throw Error(
        fmt::format("'{}': plan hash mismatch (header {:016x}, payload {:016x}): the file "
                    "is corrupt",
                    origin, hash, actual));
  }
  PlanFile f;
  try {
    ByteReader r(payload, have, origin);
    f = parse_payload(r);
  } catch (const Error& e) {
    throw reworded(e);
  }
  f.hash = hash;
  const std::string prefix = fmt::format("'{}': invalid plan", origin);
  PlanChecker(f.plan, f.graph, prefix).run();
  for (size_t p = 0; p < f.constants.size(); ++p) {
    for (size_t i = 0; i < f.constants[p].size(); ++i) {
      const LayerConstants& k = f.constants[p][i];
      const std::string problem =
          constants_problem(f.graph.layers[static_cast<size_t>(k.layer)], k);
      if (!problem.empty()) {
        throw Error(fmt::format("{}: participant {} weight slice {}: {}", prefix, p, i, problem));
      }
    }
  }
  return f;
}

void write_plan_file(const Plan& plan, const QGraph& full_graph, const std::string& path) {
  const std::string bytes = serialize_plan(plan, full_graph);  // may throw: nothing written yet
  model::write_file_atomically(path, bytes);
}

PlanFile read_plan_file(const std::string& path) {
  return parse_plan(model::read_file_bytes(path), path);
}

quant::QLayer sliced_layer(const QLayer& skeleton, const LayerConstants& slice) {
  const std::string problem = constants_problem(skeleton, slice);
  if (!problem.empty()) throw Error(fmt::format("cannot bind weight slice: {}", problem));
  QLayer l = skeleton;
  l.record().channel_constants->set_slice(l, kernels::ChannelRange{slice.c0, slice.c1});
  l.weights = slice.weights;
  l.bias = slice.bias;
  l.multiplier = slice.multiplier;
  l.shift = slice.shift;
  return l;
}

}  // namespace mcusplit::plan
