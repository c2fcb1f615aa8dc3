// The plan file: exact round trips of every field, the hash, per-participant
// constant slices (bound to the kernels, they compute exactly the full
// layer's channels), corrupt and truncated files, the JSON dump and the
// atomic write.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernels/int8_conv.h"
#include "kernels/int8_fully_connected.h"
#include "plan/plan_file.h"
#include "plan/plan_json.h"
#include "plan/plan_test_helpers.h"
#include "quant/qgraph_builder.h"

namespace mcusplit::plan {
namespace {

namespace fs = std::filesystem;
using core::Box;
using quant::OpType;
using quant::QGraph;
using quant::QLayer;
using testing::bad_input_message;

// ---- the fixture: a small graph and a 2-device plan of it ----

// Layers: 0 conv 3->8, 1 depthwise conv, 2 max pool, 3 reshape, 4 fully
// connected 128->10, 5 fully connected 10->6 with per-tensor requantization.
QGraph small_graph() {
  mcusplit::testing::QGraphBuilder b(7);
  const int in = b.input({3, 8, 8});
  const int c0 = b.conv(in, 8, 3, 1, 1, 1, true);
  const int c1 = b.conv(c0, 8, 3, 1, 1, 8);
  const int p = b.pool(OpType::MaxPool, c1, 2, 2, 0);
  const int r = b.reshape(p, {128, 1, 1});
  const int f = b.fully_connected(r, 10);
  QGraph g = b.finish(b.fully_connected(f, 6));
  // As the quantizer leaves them: every layer holds all its channels.
  for (QLayer& l : g.layers) {
    l.conv.weights_c1 = l.op == OpType::Conv ? l.conv.output.c : 0;
    l.fc.weights_n1 = l.op == OpType::FullyConnected ? l.fc.output_size : 0;
  }
  QLayer& per_tensor = g.layers[5];
  per_tensor.fc.per_tensor_requant = true;
  per_tensor.multiplier.resize(1);
  per_tensor.shift.resize(1);
  return g;
}

Box channels(const QGraph& g, int tensor, int32_t c0, int32_t c1) {
  Box b = core::full_box(g.tensors[static_cast<size_t>(tensor)].shape);
  b.c0 = c0;
  b.c1 = c1;
  return b;
}
Box rows(const QGraph& g, int tensor, int32_t y0, int32_t y1) {
  Box b = core::full_box(g.tensors[static_cast<size_t>(tensor)].shape);
  b.y0 = y0;
  b.y1 = y1;
  return b;
}
Box whole(const QGraph& g, int tensor) {
  return core::full_box(g.tensors[static_cast<size_t>(tensor)].shape);
}

int add_buffer(ParticipantPlan& p, int tensor, const Box& box, int first, int last) {
  PlanBuffer b;
  b.tensor = tensor;
  b.box = box;
  b.first_op = first;
  b.last_op = last;
  b.offset = p.arena_bytes;  // no reuse: enough for a format test
  p.arena_bytes += b.bytes();
  p.buffers.push_back(b);
  return static_cast<int>(p.buffers.size()) - 1;
}

PlanOp make_op(OpKind kind, int step, int tensor, const Box& box) {
  PlanOp op;
  op.kind = kind;
  op.step = step;
  op.tensor = tensor;
  op.box = box;
  return op;
}
PlanOp transfer(OpKind kind, int step, int peer, int tensor, const Box& box, int buffer) {
  PlanOp op = make_op(kind, step, tensor, box);
  op.peer = peer;
  (kind == OpKind::Send ? op.src_buffer : op.dst_buffer) = buffer;
  return op;
}
PlanOp compute(int step, int layer, int tensor, const Box& box, int dst, std::vector<int> inputs) {
  PlanOp op = make_op(OpKind::Compute, step, tensor, box);
  op.layer = layer;
  op.dst_buffer = dst;
  op.inputs = std::move(inputs);
  return op;
}

void add_slice(ParticipantPlan& p, const QGraph& g, int layer, int32_t c0, int32_t c1) {
  const QLayer& l = g.layers[static_cast<size_t>(layer)];
  const int32_t held = l.op == OpType::Conv ? l.conv.output.c : l.fc.output_size;
  const int64_t row = static_cast<int64_t>(l.weights.size()) / held;
  const int64_t requant = l.op == OpType::FullyConnected && l.fc.per_tensor_requant ? 1 : c1 - c0;
  WeightSlice s;
  s.layer = layer;
  s.c0 = c0;
  s.c1 = c1;
  s.bytes = (c1 - c0) * row + 4 * ((c1 - c0) + 2 * requant);
  p.weights.push_back(s);
  p.weight_bytes += s.bytes;
}

// Devices 0 and 1 split layer 0 by channels, layer 1 by rows, and the fully
// connected layers by neurons; device 0 pools and reshapes alone. The
// coordinator loads the input and stores the output. Not a runnable
// schedule, but every index is valid and every field has a distinct value.
Plan small_plan(const QGraph& g) {
  Plan plan;
  plan.model_name = g.source_model;
  plan.model_hash = 0x0123456789abcdefull;
  plan.strategy = "auto";
  plan.objective = "latency";
  DeviceSpec d0{"mcu0", "stm32f767", 512 * 1024, 2 * 1024 * 1024, 2.16e8, 1e7, 1.5e-4};
  DeviceSpec d1{"mcu1", "", 256 * 1024, 1024 * 1024, 1.0e8, 2e6, 3e-4};
  d1.kernel_rates = {{"depthwise", 3.5e7}, {"pointwise", 1.25e8}};
  plan.cluster.devices = {d0, d1};
  plan.cluster.topology = Topology::Star;
  plan.coordinator_spec = {5e8, 2e-5, 3e9};
  plan.max_payload_bytes = 1024;

  const int coord = 2;
  const int out0 = g.layers[0].output;
  const int out1 = g.layers[1].output;
  auto layer = [](Strategy s, Box a, Box b, Box c) { return LayerPlan{s, {a, b, c}}; };
  plan.layers = {
      layer(Strategy::Channel, channels(g, out0, 0, 4), channels(g, out0, 4, 8), Box{}),
      layer(Strategy::Spatial, rows(g, out1, 0, 5), rows(g, out1, 5, 8), Box{}),
      layer(Strategy::Single, whole(g, g.layers[2].output), Box{}, Box{}),
      layer(Strategy::Fused, whole(g, g.layers[3].output), Box{}, Box{}),
      layer(Strategy::Channel, channels(g, g.layers[4].output, 0, 6),
            channels(g, g.layers[4].output, 6, 10), Box{}),
      layer(Strategy::Channel, channels(g, g.output, 0, 3), channels(g, g.output, 3, 6), Box{}),
  };

  plan.participants.resize(3);
  for (int p = 0; p < 2; ++p) {
    ParticipantPlan& part = plan.participants[static_cast<size_t>(p)];
    const DeviceSpec& d = plan.cluster.devices[static_cast<size_t>(p)];
    part.name = d.name;
    part.ram_bytes = d.ram_bytes;
    part.flash_bytes = d.flash_bytes;
    part.runtime_bytes = 4096 + p;
    const int in = add_buffer(part, g.input, whole(g, g.input), 0, 1);
    const Box mine = plan.layers[0].boxes[static_cast<size_t>(p)];
    const int half = add_buffer(part, out0, mine, 1, 2);
    part.ops.push_back(transfer(OpKind::Receive, 0, coord, g.input, whole(g, g.input), in));
    part.ops.push_back(compute(0, 0, out0, mine, half, {in}));
    part.ops.push_back(transfer(OpKind::Send, 1, 1 - p, out0, mine, half));
    add_slice(part, g, 0, p == 0 ? 0 : 4, p == 0 ? 4 : 8);
    add_slice(part, g, 1, 0, 8);
    add_slice(part, g, 4, p == 0 ? 0 : 6, p == 0 ? 6 : 10);
    add_slice(part, g, 5, p == 0 ? 0 : 3, p == 0 ? 3 : 6);
    part.estimate = {1000 + p, 200 + p, 300 + p, 4 + p, 0.25 + p, 0.5 + p, {}};
    for (int s = 0; s < plan.step_count(); ++s) part.estimate.live_bytes.push_back(100 * s + p);
  }
  ParticipantPlan& c = plan.participants[coord];
  c.name = "coordinator";
  c.coordinator = true;
  const int in = add_buffer(c, g.input, whole(g, g.input), 0, 2);
  const int out = add_buffer(c, g.output, whole(g, g.output), 3, 5);
  PlanOp load = make_op(OpKind::LoadInput, 0, g.input, whole(g, g.input));
  load.dst_buffer = in;
  c.ops.push_back(load);
  c.ops.push_back(transfer(OpKind::Send, 0, 0, g.input, whole(g, g.input), in));
  c.ops.push_back(transfer(OpKind::Send, 0, 1, g.input, whole(g, g.input), in));
  c.ops.push_back(transfer(OpKind::Receive, 5, 0, g.output, channels(g, g.output, 0, 3), out));
  c.ops.push_back(make_op(OpKind::Copy, 5, g.output, whole(g, g.output)));
  c.ops.back().src_buffer = out;
  c.ops.back().dst_buffer = out;
  PlanOp store = make_op(OpKind::StoreOutput, 6, g.output, whole(g, g.output));
  store.src_buffer = out;
  c.ops.push_back(store);
  c.estimate.bytes_sent = 384;

  plan.estimated_latency_s = 0.0123;
  plan.timeline = {{2, OpKind::Send, 0, 0, 0.0, 0.001},
                   {0, OpKind::Receive, 0, 2, 0.0, 0.001},
                   {0, OpKind::Compute, 0, -1, 0.001, 0.004},
                   {1, OpKind::Compute, 0, -1, 0.001, 0.006}};
  return plan;
}

struct Fixture {
  QGraph graph = small_graph();
  Plan plan = small_plan(graph);
};

// ---- field-by-field equality ----

void expect_same_params(const QLayer& a, const QLayer& b) {
  // Every parameter block, pointers included: a layer read from a file has
  // none bound, like the quantizer's.
  EXPECT_EQ(static_cast<const kernels::OpParams&>(a), static_cast<const kernels::OpParams&>(b))
      << a.name;
  ASSERT_EQ(a.concat.size(), b.concat.size());
  for (size_t i = 0; i < a.concat.size(); ++i) {
    EXPECT_EQ(a.concat[i], b.concat[i]) << a.name;
  }
}

// `skeleton` is `full` without the constant arrays.
void expect_skeleton_of(const QGraph& skeleton, const QGraph& full) {
  EXPECT_EQ(skeleton.source_model, full.source_model);
  EXPECT_EQ(skeleton.input, full.input);
  EXPECT_EQ(skeleton.output, full.output);
  ASSERT_EQ(skeleton.tensors.size(), full.tensors.size());
  for (size_t t = 0; t < full.tensors.size(); ++t) {
    EXPECT_EQ(skeleton.tensors[t].name, full.tensors[t].name);
    EXPECT_EQ(skeleton.tensors[t].shape, full.tensors[t].shape);
    EXPECT_EQ(std::bit_cast<uint32_t>(skeleton.tensors[t].quant.scale),
              std::bit_cast<uint32_t>(full.tensors[t].quant.scale));
    EXPECT_EQ(skeleton.tensors[t].quant.zero_point, full.tensors[t].quant.zero_point);
  }
  ASSERT_EQ(skeleton.layers.size(), full.layers.size());
  for (size_t i = 0; i < full.layers.size(); ++i) {
    const QLayer& s = skeleton.layers[i];
    const QLayer& f = full.layers[i];
    EXPECT_EQ(s.name, f.name);
    EXPECT_EQ(s.op, f.op);
    EXPECT_EQ(s.inputs, f.inputs);
    EXPECT_EQ(s.output, f.output);
    expect_same_params(s, f);
    EXPECT_TRUE(s.weights.empty() && s.bias.empty() && s.multiplier.empty() && s.shift.empty())
        << s.name;
  }
}

void expect_same_op(const PlanOp& a, const PlanOp& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.layer, b.layer);
  EXPECT_EQ(a.peer, b.peer);
  EXPECT_EQ(a.tensor, b.tensor);
  EXPECT_EQ(a.box, b.box);
  EXPECT_EQ(a.src_buffer, b.src_buffer);
  EXPECT_EQ(a.dst_buffer, b.dst_buffer);
  EXPECT_EQ(a.inputs, b.inputs);
}

void expect_same_participant(const ParticipantPlan& a, const ParticipantPlan& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.coordinator, b.coordinator);
  EXPECT_EQ(a.ram_bytes, b.ram_bytes);
  EXPECT_EQ(a.flash_bytes, b.flash_bytes);
  ASSERT_EQ(a.buffers.size(), b.buffers.size());
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    EXPECT_EQ(a.buffers[i].tensor, b.buffers[i].tensor);
    EXPECT_EQ(a.buffers[i].box, b.buffers[i].box);
    EXPECT_EQ(a.buffers[i].first_op, b.buffers[i].first_op);
    EXPECT_EQ(a.buffers[i].last_op, b.buffers[i].last_op);
    EXPECT_EQ(a.buffers[i].offset, b.buffers[i].offset);
  }
  EXPECT_EQ(a.arena_bytes, b.arena_bytes);
  EXPECT_EQ(a.runtime_bytes, b.runtime_bytes);
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) expect_same_op(a.ops[i], b.ops[i]);
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (size_t i = 0; i < a.weights.size(); ++i) {
    EXPECT_EQ(a.weights[i].layer, b.weights[i].layer);
    EXPECT_EQ(a.weights[i].c0, b.weights[i].c0);
    EXPECT_EQ(a.weights[i].c1, b.weights[i].c1);
    EXPECT_EQ(a.weights[i].bytes, b.weights[i].bytes);
  }
  EXPECT_EQ(a.weight_bytes, b.weight_bytes);
  const ParticipantEstimate& e = a.estimate;
  const ParticipantEstimate& f = b.estimate;
  EXPECT_EQ(e.macs, f.macs);
  EXPECT_EQ(e.bytes_sent, f.bytes_sent);
  EXPECT_EQ(e.bytes_received, f.bytes_received);
  EXPECT_EQ(e.messages_sent, f.messages_sent);
  EXPECT_EQ(e.compute_s, f.compute_s);
  EXPECT_EQ(e.finish_s, f.finish_s);
  EXPECT_EQ(e.live_bytes, f.live_bytes);
}

void expect_same_plan(const Plan& a, const Plan& b) {
  EXPECT_EQ(a.model_name, b.model_name);
  EXPECT_EQ(a.model_hash, b.model_hash);
  EXPECT_EQ(a.strategy, b.strategy);
  EXPECT_EQ(a.objective, b.objective);
  ASSERT_EQ(a.cluster.devices.size(), b.cluster.devices.size());
  for (size_t i = 0; i < a.cluster.devices.size(); ++i) {
    const DeviceSpec& d = a.cluster.devices[i];
    const DeviceSpec& e = b.cluster.devices[i];
    EXPECT_EQ(d.name, e.name);
    EXPECT_EQ(d.profile, e.profile);
    EXPECT_EQ(d.ram_bytes, e.ram_bytes);
    EXPECT_EQ(d.flash_bytes, e.flash_bytes);
    EXPECT_EQ(d.macs_per_second, e.macs_per_second);
    EXPECT_EQ(d.link_bits_per_second, e.link_bits_per_second);
    EXPECT_EQ(d.link_latency_s, e.link_latency_s);
    EXPECT_TRUE(d.kernel_rates == e.kernel_rates) << d.name;
  }
  EXPECT_EQ(a.cluster.topology, b.cluster.topology);
  EXPECT_EQ(a.coordinator_spec.link_bits_per_second, b.coordinator_spec.link_bits_per_second);
  EXPECT_EQ(a.coordinator_spec.link_latency_s, b.coordinator_spec.link_latency_s);
  EXPECT_EQ(a.coordinator_spec.macs_per_second, b.coordinator_spec.macs_per_second);
  EXPECT_EQ(a.max_payload_bytes, b.max_payload_bytes);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].strategy, b.layers[i].strategy);
    EXPECT_EQ(a.layers[i].boxes, b.layers[i].boxes);
  }
  ASSERT_EQ(a.participants.size(), b.participants.size());
  for (size_t i = 0; i < a.participants.size(); ++i) {
    expect_same_participant(a.participants[i], b.participants[i]);
  }
  EXPECT_EQ(a.estimated_latency_s, b.estimated_latency_s);
  ASSERT_EQ(a.timeline.size(), b.timeline.size());
  for (size_t i = 0; i < a.timeline.size(); ++i) {
    const TimelineEvent& e = a.timeline[i];
    const TimelineEvent& f = b.timeline[i];
    EXPECT_TRUE(e.participant == f.participant && e.kind == f.kind && e.step == f.step &&
                e.peer == f.peer && e.start_s == f.start_s && e.end_s == f.end_s)
        << "event " << i;
  }
}

// ---- byte surgery for corruption tests ----

uint64_t read_u64(const std::string& bytes, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
  return v;
}
void write_le(std::string& bytes, size_t at, uint64_t v, int size) {
  for (int i = 0; i < size; ++i) bytes[at + i] = static_cast<char>(v >> (8 * i));
}
// Recomputes the header's hash after the payload was edited, so that the
// reader gets past the hash check to its structural checks.
std::string resealed(std::string bytes) {
  write_le(bytes, 20, fnv1a64(bytes.data() + kPlanHeaderBytes, bytes.size() - kPlanHeaderBytes), 8);
  return bytes;
}
// Offset of the first payload byte where two serialized plans differ.
size_t first_difference(const std::string& a, const std::string& b) {
  size_t i = kPlanHeaderBytes;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

// The file of `plan` with an i32 field set to `value`. The field is found by
// serializing a variant with a different valid value (`edit`): it starts
// at the first difference plus `shift` bytes.
template <typename Edit>
std::string with_field(const Fixture& f, Edit edit, int32_t value, int shift = 0) {
  const std::string good = serialize_plan(f.plan, f.graph);
  Plan variant = f.plan;
  edit(variant);
  const size_t at = first_difference(good, serialize_plan(variant, f.graph)) + shift;
  EXPECT_LT(at, good.size());
  std::string bad = good;
  write_le(bad, at, static_cast<uint32_t>(value), 4);
  return resealed(bad);
}

std::string parse_error(const std::string& bytes) {
  return bad_input_message([&] { parse_plan(bytes, "my.plan"); });
}

bool contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

// ---- round trip and hash ----

TEST(PlanFile, RoundTripKeepsEveryField) {
  Fixture f;
  const std::string bytes = serialize_plan(f.plan, f.graph);
  const PlanFile file = parse_plan(bytes, "mem.plan");
  expect_same_plan(f.plan, file.plan);
  expect_skeleton_of(file.graph, f.graph);
  ASSERT_EQ(file.constants.size(), f.plan.participants.size());
  for (size_t p = 0; p < file.constants.size(); ++p) {
    ASSERT_EQ(file.constants[p].size(), f.plan.participants[p].weights.size());
  }
  EXPECT_EQ(file.hash, plan_hash(f.plan, f.graph));
  // Serializing what was read gives the same bytes once the constants are
  // put back: nothing is lost or reordered.
  EXPECT_EQ(serialize_plan(file.plan, f.graph), bytes);
}

// Equality is every field of the lists (operator== = default): what is
// read equals what was written, and any field changed makes it unequal.
TEST(PlanFile, ParsedPlanEqualsTheWrittenOne) {
  Fixture f;
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "mem.plan");
  EXPECT_TRUE(file.plan == f.plan);
  Plan changed = f.plan;
  changed.participants[1].ops[1].inputs.push_back(-1);
  EXPECT_FALSE(file.plan == changed);
  changed = f.plan;
  changed.participants[0].estimate.finish_s += 1e-9;
  EXPECT_FALSE(file.plan == changed);
  const PlanFile again = parse_plan(serialize_plan(file.plan, f.graph), "mem.plan");
  EXPECT_TRUE(again.constants == file.constants);
}

TEST(PlanFile, HeaderLayout) {
  Fixture f;
  const std::string bytes = serialize_plan(f.plan, f.graph);
  ASSERT_GT(bytes.size(), kPlanHeaderBytes);
  EXPECT_EQ(bytes.substr(0, 8), "MCUSPLPL");
  EXPECT_EQ(read_u64(bytes, 8) & 0xffffffffu, kPlanFormatVersion);
  EXPECT_EQ(read_u64(bytes, 12), bytes.size() - kPlanHeaderBytes);
  const uint64_t hash = read_u64(bytes, 20);
  EXPECT_EQ(hash, fnv1a64(bytes.data() + kPlanHeaderBytes, bytes.size() - kPlanHeaderBytes));
  EXPECT_EQ(hash, plan_hash(f.plan, f.graph));
  EXPECT_EQ(parse_plan(bytes, "mem.plan").hash, hash);
}

TEST(PlanFile, Fnv1aMatchesPublishedVectors) {
  EXPECT_EQ(fnv1a64("", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar", 6), 0x85944171f73967e8ull);
}

TEST(PlanFile, SerializingIsDeterministic) {
  Fixture f;
  EXPECT_EQ(serialize_plan(f.plan, f.graph), serialize_plan(small_plan(f.graph), small_graph()));
}

TEST(PlanFile, HashChangesWhenAnyPayloadByteChanges) {
  Fixture f;
  const std::string bytes = serialize_plan(f.plan, f.graph);
  const std::string payload = bytes.substr(kPlanHeaderBytes);
  const uint64_t hash = fnv1a64(payload.data(), payload.size());
  for (size_t i = 0; i < payload.size(); ++i) {
    std::string changed = payload;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    ASSERT_NE(fnv1a64(changed.data(), changed.size()), hash) << "byte " << i;
  }
}

TEST(PlanFile, HashChangesWithThePlanAndTheSlicedConstants) {
  Fixture f;
  const uint64_t hash = plan_hash(f.plan, f.graph);
  Plan plan = f.plan;
  plan.participants[0].ops[0].step = 1;
  EXPECT_NE(plan_hash(plan, f.graph), hash);
  plan = f.plan;
  plan.cluster.devices[1].link_latency_s *= 2;
  EXPECT_NE(plan_hash(plan, f.graph), hash);
  plan = f.plan;
  plan.timeline.pop_back();
  EXPECT_NE(plan_hash(plan, f.graph), hash);
  QGraph graph = f.graph;
  graph.layers[0].weights.back() = static_cast<int8_t>(graph.layers[0].weights.back() ^ 1);
  EXPECT_NE(plan_hash(f.plan, graph), hash);
  graph = f.graph;
  graph.tensors[3].quant.zero_point += 1;  // part of the skeleton
  EXPECT_NE(plan_hash(f.plan, graph), hash);
}

// ---- constants ----

TEST(PlanFile, ParticipantsHoldExactlyTheirRows) {
  Fixture f;
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "mem.plan");
  for (size_t p = 0; p < 2; ++p) {
    const auto& slices = f.plan.participants[p].weights;
    for (size_t i = 0; i < slices.size(); ++i) {
      const WeightSlice& s = slices[i];
      const LayerConstants& k = file.constants[p][i];
      const QLayer& full = f.graph.layers[static_cast<size_t>(s.layer)];
      const size_t row = full.weights.size() / full.bias.size();
      EXPECT_EQ(k.layer, s.layer);
      EXPECT_EQ(k.c0, s.c0);
      EXPECT_EQ(k.c1, s.c1);
      const std::vector<int8_t> weights(full.weights.begin() + s.c0 * row,
                                        full.weights.begin() + s.c1 * row);
      EXPECT_EQ(k.weights, weights) << "layer " << s.layer;
      const std::vector<int32_t> bias(full.bias.begin() + s.c0, full.bias.begin() + s.c1);
      EXPECT_EQ(k.bias, bias);
      if (full.op == OpType::FullyConnected && full.fc.per_tensor_requant) {
        EXPECT_EQ(k.multiplier, full.multiplier);  // the one shared element
        EXPECT_EQ(k.shift, full.shift);
      } else {
        EXPECT_EQ(k.multiplier, std::vector<int32_t>(full.multiplier.begin() + s.c0,
                                                     full.multiplier.begin() + s.c1));
        EXPECT_EQ(k.shift,
                  std::vector<int32_t>(full.shift.begin() + s.c0, full.shift.begin() + s.c1));
      }
      // What the planner counted is what the slice holds.
      EXPECT_EQ(s.bytes,
                static_cast<int64_t>(k.weights.size() +
                                     4 * (k.bias.size() + k.multiplier.size() + k.shift.size())));
    }
  }
}

// A sliced layer's conv channels equal the full layer's, bit for bit.
TEST(PlanFile, SlicedConvComputesTheFullLayersChannels) {
  Fixture f;
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "mem.plan");
  std::vector<int8_t> input(
      static_cast<size_t>(f.graph.tensors[static_cast<size_t>(f.graph.input)].bytes()));
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<int8_t>(i * 53 % 256 - 128);
  const QLayer& full = f.graph.layers[0];
  auto run = [&](const QLayer& l, const Box& out_box) {
    kernels::Int8ConvParams p = l.conv;
    p.weights = l.weights.data();
    p.bias = l.bias.data();
    p.requant = {l.multiplier.data(), l.shift.data()};
    std::vector<int8_t> out(static_cast<size_t>(out_box.volume()));
    const kernels::InputTile in{input.data(), whole(f.graph, f.graph.input)};
    const int32_t scratch_bytes = kernels::int8_conv_scratch_bytes(p, out_box);
    std::vector<int32_t> scratch(static_cast<size_t>(scratch_bytes + 3) / 4);
    EXPECT_EQ(kernels::int8_conv(p, in, {out.data(), out_box},
                                 {reinterpret_cast<int8_t*>(scratch.data()), scratch_bytes}),
              kernels::KernelStatus::Ok);
    return out;
  };
  for (size_t p = 0; p < 2; ++p) {
    const LayerConstants& k = file.constants[p][0];
    ASSERT_EQ(k.layer, 0);
    const QLayer sliced = sliced_layer(file.graph.layers[0], k);
    EXPECT_EQ(sliced.conv.weights_c0, k.c0);
    EXPECT_EQ(sliced.conv.weights_c1, k.c1);
    const Box box = channels(f.graph, full.output, k.c0, k.c1);
    EXPECT_EQ(run(sliced, box), run(full, box)) << "participant " << p;
  }
}

TEST(PlanFile, SlicedFullyConnectedComputesTheFullLayersNeurons) {
  Fixture f;
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "mem.plan");
  for (int layer : {4, 5}) {  // per-neuron and per-tensor requantization
    const QLayer& full = f.graph.layers[static_cast<size_t>(layer)];
    std::vector<int8_t> input(static_cast<size_t>(full.fc.input_size));
    for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<int8_t>(i * 37 % 256 - 128);
    auto run = [&](const QLayer& l, int32_t n0, int32_t n1) {
      kernels::Int8FullyConnectedParams p = l.fc;
      p.weights = l.weights.data();
      p.bias = l.bias.data();
      p.requant = {l.multiplier.data(), l.shift.data()};
      std::vector<int8_t> out(static_cast<size_t>(n1 - n0));
      EXPECT_EQ(kernels::int8_fully_connected_scratch_bytes(p, n0, n1), 0);
      EXPECT_EQ(kernels::int8_fully_connected(p, input.data(), n0, n1, out.data(), {}),
                kernels::KernelStatus::Ok);
      return out;
    };
    for (size_t p = 0; p < 2; ++p) {
      const LayerConstants& k = file.constants[p][layer == 4 ? 2 : 3];
      ASSERT_EQ(k.layer, layer);
      const QLayer sliced = sliced_layer(file.graph.layers[static_cast<size_t>(layer)], k);
      EXPECT_EQ(sliced.fc.weights_n0, k.c0);
      EXPECT_EQ(sliced.fc.weights_n1, k.c1);
      EXPECT_EQ(run(sliced, k.c0, k.c1), run(full, k.c0, k.c1)) << "layer " << layer;
    }
  }
}

TEST(PlanFile, SlicedLayerRejectsAMismatchedSlice) {
  Fixture f;
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "mem.plan");
  LayerConstants k = file.constants[0][0];
  k.weights.pop_back();
  EXPECT_TRUE(contains(bad_input_message([&] { sliced_layer(file.graph.layers[0], k); }),
                       "weights for 4 channels"));
  EXPECT_TRUE(
      contains(bad_input_message([&] { sliced_layer(file.graph.layers[2], file.constants[0][0]); }),
               "has no constants"));
}

// ---- what the writer refuses ----

TEST(PlanFile, SerializeRejectsASliceOutsideItsLayer) {
  Fixture f;
  f.plan.participants[1].weights[0].c1 = 9;
  const std::string m = bad_input_message([&] { serialize_plan(f.plan, f.graph); });
  EXPECT_TRUE(contains(m, "cannot serialize plan")) << m;
  EXPECT_TRUE(contains(m, "channels [4, 9) of layer 'Conv_0' are outside [0, 8)")) << m;
}

TEST(PlanFile, SerializeRejectsASliceOfALayerWithoutConstants) {
  Fixture f;
  f.plan.participants[0].weights[1].layer = 2;
  const std::string m = bad_input_message([&] { serialize_plan(f.plan, f.graph); });
  EXPECT_TRUE(contains(m, "has no constants to slice")) << m;
}

TEST(PlanFile, SerializeNeedsTheFullGraph) {
  Fixture f;
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "mem.plan");
  const std::string m = bad_input_message([&] { serialize_plan(f.plan, file.graph); });
  EXPECT_TRUE(contains(m, "lacks its constants")) << m;
}

TEST(PlanFile, SerializeRejectsAParticipantCountOtherThanDevicesPlusOne) {
  Fixture f;
  f.plan.participants.pop_back();
  const std::string m = bad_input_message([&] { serialize_plan(f.plan, f.graph); });
  EXPECT_TRUE(contains(m, "2 participants for 2 devices")) << m;
}

TEST(PlanFile, SerializeRejectsBadIndices) {
  Fixture f;
  Plan plan = f.plan;
  plan.participants[0].ops[1].inputs = {7};
  EXPECT_TRUE(contains(bad_input_message([&] { serialize_plan(plan, f.graph); }),
                       "participant 0 ('mcu0') op 1 (compute): input buffer 7 out of range"));
  plan = f.plan;
  plan.participants[2].buffers[1].offset += 1;  // runs past the arena
  EXPECT_TRUE(contains(bad_input_message([&] { serialize_plan(plan, f.graph); }), "outside the"));
}

// ---- what the reader refuses ----

TEST(PlanFileCorruption, TruncatedAtEveryLength) {
  Fixture f;
  const std::string bytes = serialize_plan(f.plan, f.graph);
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string m = parse_error(bytes.substr(0, n));
    ASSERT_TRUE(contains(m, "'my.plan'")) << m;
    if (n < 8) {
      ASSERT_TRUE(contains(m, "bad magic")) << n << ": " << m;
    } else if (n < kPlanHeaderBytes) {
      ASSERT_TRUE(contains(m, "truncated inside its 28-byte header")) << n << ": " << m;
    } else {
      ASSERT_TRUE(contains(m, "plan file truncated: payload of")) << n << ": " << m;
    }
  }
}

TEST(PlanFileCorruption, FlippedPayloadByteIsAHashMismatch) {
  Fixture f;
  const std::string bytes = serialize_plan(f.plan, f.graph);
  for (size_t i = kPlanHeaderBytes; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    const std::string m = parse_error(bad);
    ASSERT_TRUE(contains(m, "'my.plan': plan hash mismatch")) << i << ": " << m;
  }
}

TEST(PlanFileCorruption, FlippedHashByteIsAHashMismatch) {
  Fixture f;
  std::string bytes = serialize_plan(f.plan, f.graph);
  bytes[25] = static_cast<char>(bytes[25] ^ 0x01);
  EXPECT_TRUE(contains(parse_error(bytes), "hash mismatch"));
}

TEST(PlanFileCorruption, BadMagic) {
  Fixture f;
  std::string bytes = serialize_plan(f.plan, f.graph);
  bytes[7] = 'Q';  // an .mq file's magic
  EXPECT_EQ(parse_error(bytes), "'my.plan' is not a plan file (bad magic; expected \"MCUSPLPL\")");
}

TEST(PlanFileCorruption, UnsupportedVersion) {
  Fixture f;
  std::string bytes = serialize_plan(f.plan, f.graph);
  write_le(bytes, 8, 3, 4);
  EXPECT_EQ(parse_error(bytes),
            "'my.plan': unsupported plan format version 3 (this build reads version 8)");
}

TEST(PlanFileCorruption, LengthMismatch) {
  Fixture f;
  const std::string bytes = serialize_plan(f.plan, f.graph);
  EXPECT_TRUE(contains(parse_error(bytes + '\0'), "1 bytes beyond the payload"));
  std::string longer = bytes;
  write_le(longer, 12, bytes.size() - kPlanHeaderBytes + 5, 8);
  EXPECT_TRUE(contains(parse_error(longer), "truncated"));
}

TEST(PlanFileCorruption, OutOfRangeIndicesWithAValidHash) {
  Fixture f;
  // The variant edits below change exactly one i32 field; the file then gets
  // an out-of-range value there and a recomputed hash.
  struct Case {
    void (*edit)(Plan&);
    int32_t value;
    const char* expected;
    int shift = 0;
  };
  const Case cases[] = {
      {[](Plan& p) { p.participants[0].ops[0].peer = 1; }, 3,
       "participant 0 ('mcu0') op 0 (receive): peer 3 out of range"},
      {[](Plan& p) { p.participants[0].ops[0].peer = 1; }, -5,
       "op 0 (receive): peer -5 out of range"},
      {[](Plan& p) { p.participants[1].ops[1].layer = 1; }, 6,
       "participant 1 ('mcu1') op 1 (compute): layer 6 out of range"},
      {[](Plan& p) { p.participants[1].ops[1].dst_buffer = 0; }, 2,
       "op 1 (compute): destination buffer 2 out of range"},
      {[](Plan& p) { p.participants[2].ops[5].src_buffer = 0; }, 9,
       "participant 2 ('coordinator') op 5 (store_output): source buffer 9 out of range"},
      {[](Plan& p) { p.participants[0].buffers[1].tensor = 2; }, 40,
       "participant 0 ('mcu0') buffer 1: tensor 40 out of range"},
      // Another layer would change the slice's size: find `bytes`, which
      // follows layer, c0 and c1.
      {[](Plan& p) { p.participants[1].weights[1].bytes += 1; }, 17,
       "participant 1 ('mcu1') weight slice 1: layer 17 out of range", -12},
      {[](Plan& p) { p.timeline[1].participant = 1; }, 3, "timeline event 1: participant 3"},
      {[](Plan& p) { p.participants[0].ops[2].step = 2; }, 7, "op 2 (send): step 7 out of range"},
      {[](Plan& p) { p.participants[0].buffers[1].last_op = 1; }, 3,
       "participant 0 ('mcu0') buffer 1: lifetime [1, 3] is not a range of its 3 ops"},
      {[](Plan& p) { p.layers[1].tile_h = 1; }, -2, "tile size -2x0"},
      // runtime_bytes is an i64 of 4096: -1 in its high half makes it negative.
      {[](Plan& p) { p.participants[0].runtime_bytes = 1; }, -1,
       "participant 0 ('mcu0'): runtime RAM of -4294963200 bytes", 4},
  };
  for (const Case& c : cases) {
    const std::string m = parse_error(with_field(f, c.edit, c.value, c.shift));
    EXPECT_TRUE(contains(m, "'my.plan': invalid plan: ")) << m;
    EXPECT_TRUE(contains(m, c.expected)) << m;
  }
}

TEST(PlanFileCorruption, OutOfRangeGraphIndicesWithAValidHash) {
  Fixture f;
  auto graph_field = [&](auto edit, int32_t value) {
    const std::string good = serialize_plan(f.plan, f.graph);
    QGraph variant = f.graph;
    edit(variant);
    std::string bad = good;
    write_le(bad, first_difference(good, serialize_plan(f.plan, variant)),
             static_cast<uint32_t>(value), 4);
    return parse_error(resealed(bad));
  };
  EXPECT_TRUE(contains(graph_field([](QGraph& g) { g.output = 1; }, 99),
                       "graph input 0 or output 99 out of range"));
  EXPECT_TRUE(contains(graph_field([](QGraph& g) { g.layers[2].inputs[0] = 1; }, -2),
                       "layer 'MaxPool_2': input -2 out of range"));
}

TEST(PlanFileCorruption, UnknownEnumValues) {
  Fixture f;
  const std::string good = serialize_plan(f.plan, f.graph);
  Plan variant = f.plan;
  variant.participants[1].ops[1].kind = OpKind::LoadInput;  // a valid change, to find the byte
  std::string bad = good;
  const size_t at = first_difference(good, serialize_plan(variant, f.graph));
  bad[at] = 9;
  const std::string m = parse_error(resealed(bad));
  EXPECT_TRUE(contains(m, "'my.plan': unknown op kind 9 (corrupt or newer plan file)")) << m;
}

TEST(PlanFileCorruption, PayloadEndingEarlyWithAValidHash) {
  Fixture f;
  const std::string bytes = serialize_plan(f.plan, f.graph);
  // Drop the payload's last byte but fix length and hash: only the decoder
  // can notice.
  std::string bad = bytes.substr(0, bytes.size() - 1);
  write_le(bad, 12, bad.size() - kPlanHeaderBytes, 8);
  const std::string m = parse_error(resealed(bad));
  EXPECT_TRUE(contains(m, "'my.plan': plan payload ends in the middle of")) << m;
  EXPECT_FALSE(contains(m, ".mq")) << m;
}

// A skeleton whose conv window disagrees with the slices' sizes: the slices
// would make the kernels read past their weights.
TEST(PlanFileCorruption, ConstantsOfTheWrongSizeWithAValidHash) {
  Fixture f;
  const std::string good = serialize_plan(f.plan, f.graph);
  QGraph variant = f.graph;
  variant.layers[0].conv.pad_top = 0;  // harmless: finds Conv_0's params
  const size_t pad_top = first_difference(good, serialize_plan(f.plan, variant));
  std::string bad = good;
  write_le(bad, pad_top - 5 * 4, 1, 4);  // kernel_w: 5 fields before pad_top
  const std::string m = parse_error(resealed(bad));
  EXPECT_EQ(m,
            "'my.plan': invalid plan: participant 0 weight slice 0: layer 'Conv_0': 108 weights "
            "for 4 channels of 9");
}

TEST(PlanFileCorruption, CoordinatorMustBeLast) {
  Fixture f;
  const std::string good = serialize_plan(f.plan, f.graph);
  // serialize refuses such a plan, so find the flag by hand: it follows
  // the name that opens participant 0's section (the last "mcu0").
  const std::string name = "mcu0";
  const size_t at = good.rfind(std::string("\x04\0\0\0", 4) + name) + 4 + name.size();
  ASSERT_EQ(good[at], 0);
  std::string bad = good;
  bad[at] = 1;
  const std::string m = parse_error(resealed(bad));
  EXPECT_TRUE(contains(m, "coordinator must be the last participant")) << m;
}

// Any byte of a payload whose hash was fixed up: the reader either accepts
// the file or throws mcusplit::Error, never anything else (run under ASan,
// never an out-of-bounds read).
TEST(PlanFileCorruption, EveryMutatedByteWithAValidHashIsSafe) {
  Fixture f;
  const std::string bytes = serialize_plan(f.plan, f.graph);
  for (size_t i = kPlanHeaderBytes; i < bytes.size(); ++i) {
    for (const int v : {0x00, 0x7f, 0x80, 0xff}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(v);
      try {
        parse_plan(resealed(bad), "my.plan");
      } catch (const Error& e) {
        ASSERT_EQ(std::string(e.what()).find('\n'), std::string::npos);
        ASSERT_EQ(std::string(e.what()).rfind("'my.plan'", 0), 0u) << e.what();
      } catch (const std::exception& e) {
        FAIL() << "byte " << i << " = " << v << ": " << e.what();
      }
    }
  }
}

// ---- JSON dump ----

TEST(PlanFileJson, DumpHasEveryPart) {
  Fixture f;
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "mem.plan");
  const nlohmann::json j = plan_to_json(file);
  EXPECT_EQ(j["format_version"], kPlanFormatVersion);
  EXPECT_EQ(j["hash"], fmt::format("{:016x}", file.hash));
  EXPECT_EQ(j["model"]["name"], "hand-built");
  EXPECT_EQ(j["model"]["hash"], "0123456789abcdef");
  EXPECT_EQ(j["strategy"], "auto");
  EXPECT_EQ(j["objective"], "latency");
  EXPECT_EQ(j["cluster"]["topology"], "star");
  EXPECT_EQ(j["cluster"]["devices"][0]["profile"], "stm32f767");
  EXPECT_EQ(j["cluster"]["devices"][1]["ram_bytes"], 256 * 1024);
  EXPECT_EQ(j["coordinator"]["macs_per_second"], 3e9);
  EXPECT_EQ(j["max_payload_bytes"], 1024);
  EXPECT_EQ(j["estimated_latency_s"], 0.0123);
  EXPECT_EQ(j["max_peak_ram_bytes"], f.plan.max_peak_ram_bytes());
  EXPECT_EQ(j["total_bytes_transferred"], f.plan.total_bytes_transferred());
  EXPECT_EQ(j["steps"], 7);
  ASSERT_EQ(j["tensors"].size(), f.graph.tensors.size());
  EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json({3, 8, 8}));

  ASSERT_EQ(j["layers"].size(), 6u);
  EXPECT_EQ(j["layers"][0]["name"], "Conv_0");
  EXPECT_EQ(j["layers"][0]["op"], "Conv");
  EXPECT_EQ(j["layers"][0]["strategy"], "channel");
  EXPECT_EQ(j["layers"][1]["strategy"], "spatial");
  EXPECT_EQ(j["layers"][2]["strategy"], "single");
  EXPECT_EQ(j["layers"][3]["strategy"], "fused");
  EXPECT_EQ(j["layers"][1]["boxes"][1],
            nlohmann::json::parse(R"({"c": [0, 8], "y": [5, 8], "x": [0, 8]})"));

  const auto& p0 = j["participants"][0];
  EXPECT_EQ(p0["name"], "mcu0");
  EXPECT_EQ(p0["coordinator"], false);
  EXPECT_EQ(p0["arena_bytes"], f.plan.participants[0].arena_bytes);
  EXPECT_EQ(p0["weight_bytes"], f.plan.participants[0].weight_bytes);
  EXPECT_EQ(p0["buffers"][1]["tensor_name"], "Conv_0_out");
  EXPECT_EQ(p0["buffers"][1]["bytes"], 4 * 8 * 8);
  EXPECT_EQ(p0["ops"][0]["kind"], "receive");
  EXPECT_EQ(p0["ops"][0]["peer"], 2);
  EXPECT_EQ(p0["ops"][1]["kind"], "compute");
  EXPECT_EQ(p0["ops"][1]["inputs"], nlohmann::json({0}));
  EXPECT_EQ(p0["weights"][0]["c"], nlohmann::json({0, 4}));
  EXPECT_EQ(p0["weights"][0]["layer_name"], "Conv_0");
  EXPECT_EQ(p0["weights"][0]["bytes"], f.plan.participants[0].weights[0].bytes);
  EXPECT_FALSE(p0["weights"][0].contains("weights"));  // no constant data in the dump
  EXPECT_EQ(p0["estimate"]["live_bytes"].size(), 7u);
  EXPECT_EQ(p0["estimate"]["finish_s"], 0.5);
  const auto& coord = j["participants"][2];
  EXPECT_EQ(coord["coordinator"], true);
  EXPECT_EQ(coord["ops"][0]["kind"], "load_input");
  EXPECT_EQ(coord["ops"][4]["kind"], "copy");
  EXPECT_EQ(coord["ops"][5]["kind"], "store_output");
  EXPECT_EQ(j["timeline"][0]["kind"], "send");
  EXPECT_EQ(j["timeline"][2]["end_s"], 0.004);
}

TEST(PlanFileJson, HashFromTheFullGraphMatchesTheFile) {
  Fixture f;
  const PlanFile file = parse_plan(serialize_plan(f.plan, f.graph), "mem.plan");
  EXPECT_EQ(plan_to_json(f.plan, f.graph), plan_to_json(file));
  // A skeleton cannot be sliced, so its hash must come from the file.
  bad_input_message([&] { plan_to_json(file.plan, file.graph); });
}

// ---- files ----

std::string temp_path(const std::string& name) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return ::testing::TempDir() + "mcusplit_" + info->name() + "_" + name;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(PlanFileWrite, WritesAndReadsBack) {
  Fixture f;
  const std::string path = temp_path("a.plan");
  write_plan_file(f.plan, f.graph, path);
  EXPECT_EQ(file_bytes(path), serialize_plan(f.plan, f.graph));
  const PlanFile file = read_plan_file(path);
  expect_same_plan(f.plan, file.plan);
  EXPECT_FALSE(fs::exists(fmt::format("{}.tmp.{}", path, ::getpid())));
  fs::remove(path);
}

TEST(PlanFileWrite, MissingDirectoryIsAnErrorAndWritesNothing) {
  Fixture f;
  const std::string dir = temp_path("no_such_dir");
  fs::remove_all(dir);
  const std::string m =
      bad_input_message([&] { write_plan_file(f.plan, f.graph, dir + "/x.plan"); });
  EXPECT_TRUE(contains(m, "cannot write '" + dir + "/x.plan'")) << m;
  EXPECT_FALSE(fs::exists(dir));
}

TEST(PlanFileWrite, FailedWriteLeavesTheExistingFileIntact) {
  Fixture f;
  const std::string path = temp_path("keep.plan");
  write_plan_file(f.plan, f.graph, path);
  const std::string before = file_bytes(path);

  // The temporary file cannot be created (a directory holds its name).
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  fs::create_directory(tmp);
  Plan other = f.plan;
  other.objective = "memory";
  bad_input_message([&] { write_plan_file(other, f.graph, path); });
  fs::remove_all(tmp);
  EXPECT_EQ(file_bytes(path), before);

  // A plan that cannot be serialized never touches the file.
  other.participants[0].weights[0].c1 = 99;
  bad_input_message([&] { write_plan_file(other, f.graph, path); });
  EXPECT_EQ(file_bytes(path), before);
  EXPECT_EQ(read_plan_file(path).hash, plan_hash(f.plan, f.graph));
  fs::remove(path);
}

TEST(PlanFileWrite, MissingFileIsAnError) {
  const std::string m = bad_input_message([] { read_plan_file("/no/such/file.plan"); });
  EXPECT_TRUE(contains(m, "cannot open '/no/such/file.plan'")) << m;
}

}  // namespace
}  // namespace mcusplit::plan
