// The plan checker on hand-built plans: valid ones pass, and each single
// mutation (a dropped message, a wrong box, overlapping or stale buffers, a
// small arena, budgets, weight slices, op order) is reported by name. Also
// the random graph and cluster generators the planner tests build on.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "core/device_runtime_ram.h"
#include "plan/checker_geometry.h"
#include "plan/device_profiles.h"
#include "plan/plan_checker.h"
#include "plan_test_helpers.h"
#include "quant/qgraph_builder.h"
#include "quant/qgraph_validate.h"
#include "random_models.h"

namespace mcusplit::plan {
namespace {

using core::Box;
using core::TensorShape3;
using mcusplit::testing::QGraphBuilder;
using quant::OpType;
using quant::QGraph;
using quant::QLayer;

// ---------------------------------------------------------------------------
// Building plans by hand.

// Flash bytes of channels [c0, c1) of a builder layer (every array per channel).
int64_t slice_bytes(const QLayer& l, int32_t c0, int32_t c1) {
  const auto channels = static_cast<int64_t>(l.multiplier.size());
  const auto per_channel =
      static_cast<int64_t>(l.weights.size()) / channels +
      4 * static_cast<int64_t>(l.bias.size() + l.multiplier.size() + l.shift.size()) / channels;
  return per_channel * (c1 - c0);
}

// Recomputes what follows from buffers, slices and ops: arena and weight
// bytes, bytes moved and the live-bytes profile.
void finalize(Plan& plan) {
  for (ParticipantPlan& p : plan.participants) {
    p.arena_bytes = 0;
    for (const PlanBuffer& b : p.buffers)
      p.arena_bytes = std::max(p.arena_bytes, b.offset + b.bytes());
    for (const PlanOp& o : p.ops)
      p.arena_bytes = std::max(p.arena_bytes, o.scratch_offset + o.scratch_bytes);
    p.weight_bytes = 0;
    for (const WeightSlice& w : p.weights) p.weight_bytes += w.bytes;
    p.estimate.bytes_sent = p.estimate.bytes_received = 0;
    for (const PlanOp& o : p.ops) {
      if (o.kind == OpKind::Send) p.estimate.bytes_sent += o.box.volume();
      if (o.kind == OpKind::Receive) p.estimate.bytes_received += o.box.volume();
    }
    // Peak per step over its ops (these plans have ops at every step a
    // buffer spans).
    p.estimate.live_bytes.assign(static_cast<size_t>(plan.step_count()), 0);
    for (size_t i = 0; i < p.ops.size(); ++i) {
      int64_t at = p.ops[i].scratch_bytes;
      for (const PlanBuffer& b : p.buffers) {
        if (b.first_op <= static_cast<int>(i) && static_cast<int>(i) <= b.last_op) at += b.bytes();
      }
      auto& live = p.estimate.live_bytes[static_cast<size_t>(p.ops[i].step)];
      live = std::max(live, at);
    }
  }
}

// Buffer b of participant p lives for whole steps first..last: from the
// first op of step `first` (or the next step with ops) to the last op of a
// step up to `last`.
void set_lifetime_steps(Plan& plan, int p, int b, int first, int last) {
  ParticipantPlan& pp = plan.participants[static_cast<size_t>(p)];
  PlanBuffer& buf = pp.buffers[static_cast<size_t>(b)];
  const int n = static_cast<int>(pp.ops.size());
  buf.first_op = n - 1;
  buf.last_op = 0;
  for (int i = n - 1; i >= 0; --i) {
    if (pp.ops[static_cast<size_t>(i)].step >= first) buf.first_op = i;
  }
  for (int i = 0; i < n; ++i) {
    if (pp.ops[static_cast<size_t>(i)].step <= last) buf.last_op = i;
  }
}

// Moves participant p's kernel scratch above its buffers again (after a
// test moved a buffer into it).
void rehome_scratch(Plan& plan, int p) {
  ParticipantPlan& pp = plan.participants[static_cast<size_t>(p)];
  int64_t end = 0;
  for (const PlanBuffer& b : pp.buffers) end = std::max(end, b.offset + b.bytes());
  for (PlanOp& o : pp.ops) {
    if (o.scratch_bytes > 0) o.scratch_offset = (end + 3) / 4 * 4;
  }
}

class PlanMaker {
 public:
  PlanMaker(const QGraph& g, int devices) : g_(g) {
    const DeviceProfile* profile = find_device_profile("teensy41");
    for (int d = 0; d < devices; ++d) {
      plan_.cluster.devices.push_back(device_from_profile(*profile, "dev-" + std::to_string(d)));
    }
    for (const DeviceSpec& d : plan_.cluster.devices) {
      ParticipantPlan p;
      p.name = d.name;
      p.ram_bytes = d.ram_bytes;
      p.flash_bytes = d.flash_bytes;
      plan_.participants.push_back(p);
    }
    ParticipantPlan c;
    c.name = "coordinator";
    c.coordinator = true;
    plan_.participants.push_back(c);
    plan_.layers.resize(g.layers.size());
    for (LayerPlan& l : plan_.layers) l.boxes.resize(plan_.participants.size());
    plan_.model_name = g.source_model;
  }

  int coordinator() const { return plan_.coordinator(); }
  TensorShape3 shape(int t) const { return g_.tensors[static_cast<size_t>(t)].shape; }
  Box full(int t) const { return core::full_box(shape(t)); }
  Box rows(int t, int32_t y0, int32_t y1) const {
    const TensorShape3 s = shape(t);
    return Box{0, s.c, y0, y1, 0, s.w};
  }
  Box channels(int t, int32_t c0, int32_t c1) const {
    const TensorShape3 s = shape(t);
    return Box{c0, c1, 0, s.h, 0, s.w};
  }

  int buffer(int p, int tensor, const Box& box, int first, int last, int64_t offset) {
    PlanBuffer b;
    b.tensor = tensor;
    b.box = box;
    b.offset = offset;
    auto& buffers = part(p).buffers;
    buffers.push_back(b);
    step_lifetimes_.push_back({p, static_cast<int>(buffers.size()) - 1, first, last});
    return static_cast<int>(buffers.size()) - 1;
  }

  void load(int dst) {
    PlanOp o;
    o.kind = OpKind::LoadInput;
    o.step = 0;
    o.tensor = g_.input;
    o.box = full(g_.input);
    o.dst_buffer = dst;
    part(coordinator()).ops.push_back(o);
  }
  void store(int src) {
    PlanOp o;
    o.kind = OpKind::StoreOutput;
    o.step = static_cast<int>(g_.layers.size());
    o.tensor = g_.output;
    o.box = full(g_.output);
    o.src_buffer = src;
    part(coordinator()).ops.push_back(o);
  }
  void send(int p, int step, int peer, int tensor, const Box& box, int src) {
    PlanOp o;
    o.kind = OpKind::Send;
    o.step = step;
    o.peer = peer;
    o.tensor = tensor;
    o.box = box;
    o.src_buffer = src;
    part(p).ops.push_back(o);
  }
  void receive(int p, int step, int peer, int tensor, const Box& box, int dst) {
    PlanOp o;
    o.kind = OpKind::Receive;
    o.step = step;
    o.peer = peer;
    o.tensor = tensor;
    o.box = box;
    o.dst_buffer = dst;
    part(p).ops.push_back(o);
  }
  // Also records the box in the layer plan and the weight slice it needs.
  void compute(int p, int layer, const Box& box, int dst, const std::vector<int>& inputs) {
    const QLayer& l = g_.layers[static_cast<size_t>(layer)];
    PlanOp o;
    o.kind = OpKind::Compute;
    o.step = layer;
    o.layer = layer;
    o.tensor = l.output;
    o.box = box;
    o.dst_buffer = dst;
    o.inputs = inputs;
    part(p).ops.push_back(o);
    plan_.layers[static_cast<size_t>(layer)].boxes[static_cast<size_t>(p)] = box;
    if (l.op == OpType::Conv || l.op == OpType::FullyConnected) {
      part(p).weights.push_back(WeightSlice{layer, box.c0, box.c1, slice_bytes(l, box.c0, box.c1)});
    }
  }
  void strategy(int layer, Strategy s) { plan_.layers[static_cast<size_t>(layer)].strategy = s; }

  // Gives every Compute the scratch its kernel states, above the
  // participant's buffers (one place for all: each step has one Compute).
  Plan finish() {
    for (const auto& [p, b, first, last] : step_lifetimes_)
      set_lifetime_steps(plan_, p, b, first, last);
    for (ParticipantPlan& p : plan_.participants) {
      p.runtime_bytes = p.coordinator ? 0 : core::kDeviceRuntimeRamBytes;
      int64_t end = 0;
      for (const PlanBuffer& b : p.buffers) end = std::max(end, b.offset + b.bytes());
      for (PlanOp& o : p.ops) {
        if (o.kind != OpKind::Compute) continue;
        const QLayer& l = g_.layers[static_cast<size_t>(o.layer)];
        o.scratch_bytes = l.record().scratch_bytes(l.view(), o.box);
        o.scratch_offset = o.scratch_bytes > 0 ? (end + 3) / 4 * 4 : 0;
      }
    }
    finalize(plan_);
    return plan_;
  }

 private:
  ParticipantPlan& part(int p) { return plan_.participants[static_cast<size_t>(p)]; }

  const QGraph& g_;
  Plan plan_;
  struct StepLifetime {
    int p, b, first, last;
  };
  std::vector<StepLifetime> step_lifetimes_;
};

std::string joined(const std::vector<std::string>& problems) {
  std::string s;
  for (const std::string& p : problems) s += "\n  " + p;
  return s;
}

// Fails unless one problem contains every fragment.
void expect_problem(const Plan& plan, const QGraph& g, const std::vector<std::string>& fragments) {
  const std::vector<std::string> problems = check_plan(plan, g);
  const bool found = std::any_of(problems.begin(), problems.end(), [&](const std::string& p) {
    return std::all_of(fragments.begin(), fragments.end(),
                       [&](const std::string& f) { return p.find(f) != std::string::npos; });
  });
  std::string wanted;
  for (const std::string& f : fragments) wanted += " '" + f + "'";
  EXPECT_TRUE(found) << "no problem mentions" << wanted << "; problems:" << joined(problems);
}

void expect_valid(const Plan& plan, const QGraph& g) {
  const std::vector<std::string> problems = check_plan(plan, g);
  EXPECT_TRUE(problems.empty()) << joined(problems);
}

PlanOp& find_op(Plan& plan, int p, OpKind kind, int nth = 0) {
  auto& ops = plan.participants[static_cast<size_t>(p)].ops;
  for (PlanOp& o : ops) {
    if (o.kind == kind && nth-- == 0) return o;
  }
  ADD_FAILURE() << "no such op";
  return ops.front();
}

void erase_op(Plan& plan, int p, OpKind kind, int nth = 0) {
  auto& ops = plan.participants[static_cast<size_t>(p)].ops;
  const PlanOp* target = &find_op(plan, p, kind, nth);
  testing::erase_op_at(plan.participants[static_cast<size_t>(p)],
                       static_cast<int>(target - ops.data()));
}

ParticipantPlan& participant(Plan& plan, int p) {
  return plan.participants[static_cast<size_t>(p)];
}

// ---------------------------------------------------------------------------
// Plan A: one 3x3 conv (4x8x8 -> 8x8x8) split by output channels over two
// devices; the coordinator sends each the whole input and collects halves.

struct Fixture {
  QGraph graph;
  Plan plan;
};

Fixture channel_split_plan() {
  QGraphBuilder b(1);
  const int in = b.input(TensorShape3{4, 8, 8});
  const int out = b.conv(in, 8, 3, 1, 1);
  Fixture f{b.finish(out), {}};
  PlanMaker m(f.graph, 2);
  const int c = m.coordinator();
  const int c_in = m.buffer(c, in, m.full(in), 0, 0, 0);
  const int c_out = m.buffer(c, out, m.full(out), 1, 1, 0);  // reuses the input's bytes
  m.load(c_in);
  for (int d = 0; d < 2; ++d) m.send(c, 0, d, in, m.full(in), c_in);
  for (int d = 0; d < 2; ++d) m.receive(c, 1, d, out, m.channels(out, 4 * d, 4 * d + 4), c_out);
  m.store(c_out);
  for (int d = 0; d < 2; ++d) {
    const Box mine = m.channels(out, 4 * d, 4 * d + 4);
    const int x = m.buffer(d, in, m.full(in), 0, 0, 0);
    const int y = m.buffer(d, out, mine, 0, 1, 256);
    m.receive(d, 0, c, in, m.full(in), x);
    m.compute(d, 0, mine, y, {x});
    m.send(d, 1, c, out, mine, y);
  }
  m.strategy(0, Strategy::Channel);
  f.plan = m.finish();
  return f;
}

TEST(PlanChecker, ChannelSplitPlanIsValid) {
  const Fixture f = channel_split_plan();
  expect_valid(f.plan, f.graph);
  EXPECT_NO_THROW(require_valid_plan(f.plan, f.graph));
}

TEST(PlanChecker, DroppedSendDeadlocks) {
  Fixture f = channel_split_plan();
  erase_op(f.plan, 2, OpKind::Send, 1);  // dev-1 never gets the input
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"deadlock",
                  "participant 'dev-1' (#1) op 0 (receive, step 0) waits for tensor "
                  "'input'",
                  "from coordinator 'coordinator' (#2)"});
}

TEST(PlanChecker, DroppedReceiveLeavesAMessageAndMissingData) {
  Fixture f = channel_split_plan();
  erase_op(f.plan, 2, OpKind::Receive, 1);  // dev-1's half never reaches the coordinator
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-1' (#1) op 2 (send, step 1)", "never receives it"});
  expect_problem(f.plan, f.graph,
                 {"op 4 (store_output, step 1)", "stores data that is not there",
                  "element (c 4, y 0, x 0) of tensor 'Conv_0_out'",
                  "holds element (c 0, y 0, x 1) of tensor 'input'"});
}

TEST(PlanChecker, ComputeBoxMustMatchLayerPlanAndCoverTheOutput) {
  Fixture f = channel_split_plan();
  find_op(f.plan, 1, OpKind::Compute).box.c0 = 5;
  const auto problems = check_plan(f.plan, f.graph);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-1' (#1): its 1 Compute ops of layer 'Conv_0' (Conv) cover 192 "
                  "elements within [c 5:8, y 0:8, x 0:8], not its box [c 4:8"});
  expect_problem(f.plan, f.graph,
                 {"layer 'Conv_0' (Conv): 64 of 512 elements of tensor 'Conv_0_out' are "
                  "computed by no participant, e.g. (c 4, y 0, x 0)"});
}

TEST(PlanChecker, ChannelBoxesMustNotOverlap) {
  Fixture f = channel_split_plan();
  f.plan.layers[0].boxes[1].c0 = 3;
  find_op(f.plan, 1, OpKind::Compute).box.c0 = 3;
  expect_problem(f.plan, f.graph,
                 {"channel split boxes of participant 'dev-0' (#0) and "
                  "participant 'dev-1' (#1) overlap in [c 3:4"});
}

TEST(PlanChecker, OverlappingLiveBuffers) {
  Fixture f = channel_split_plan();
  participant(f.plan, 0).buffers[1].offset = 128;  // into the input, live at step 0 too
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0): buffer #0", "and buffer #1",
                  "share arena bytes [128, 256) while both live at op 0"});
}

TEST(PlanChecker, ArenaTooSmallForItsBuffers) {
  Fixture f = channel_split_plan();
  const int64_t end = participant(f.plan, 1).arena_bytes;  // above the buffers: the scratch
  participant(f.plan, 1).arena_bytes = 300;
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-1' (#1): buffer #1",
                  "bytes [256, 512) lie "
                  "outside the arena [0, 300)"});
  expect_problem(f.plan, f.graph,
                 {"arena_bytes is 300, but its buffers and kernel scratch end "
                  "at byte " +
                  std::to_string(end)});
}

TEST(PlanChecker, EveryComputeHasTheScratchItsKernelStates) {
  Fixture f = channel_split_plan();
  PlanOp& compute = find_op(f.plan, 0, OpKind::Compute);
  const QLayer& l = f.graph.layers[0];
  const int64_t need = l.record().scratch_bytes(l.view(), compute.box);
  ASSERT_GT(need, 0) << "the fixture's conv should need scratch (the packed variant's)";
  EXPECT_EQ(compute.scratch_bytes, need);
  compute.scratch_bytes = need - 4;
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 1 (compute, step 0): " + std::to_string(need - 4) +
                  " bytes of kernel scratch, but the Conv kernel needs " + std::to_string(need)});
}

TEST(PlanChecker, ScratchMayNotShareBytesWithALiveBuffer) {
  Fixture f = channel_split_plan();
  PlanOp& compute = find_op(f.plan, 0, OpKind::Compute);
  compute.scratch_offset = 128;  // into the input and the output, both live at step 0
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0): buffer #0", "and the kernel scratch of op 1 ([128, ",
                  "share arena bytes [128, 256) while both live at op 1"});
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0): the kernel scratch of op 1", "and buffer #1",
                  "while both live at op 1"});
}

TEST(PlanChecker, ScratchIsAlignedAndOnlyOnComputes) {
  Fixture f = channel_split_plan();
  find_op(f.plan, 0, OpKind::Compute).scratch_offset += 2;
  PlanOp& send = find_op(f.plan, 1, OpKind::Send);
  send.scratch_offset = 1024;
  send.scratch_bytes = 16;
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 1 (compute, step 0): kernel "
                  "scratch at offset",
                  "not 4-byte aligned"});
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-1' (#1) op 2 (send, step 1): only a Compute has kernel "
                  "scratch, it has 16 bytes at offset 1024"});
}

TEST(PlanChecker, ArenaMustHoldTheScratch) {
  Fixture f = channel_split_plan();
  PlanOp& compute = find_op(f.plan, 0, OpKind::Compute);
  participant(f.plan, 0).arena_bytes = 512;
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0): arena_bytes is 512, but its buffers and kernel "
                  "scratch end at byte " +
                  std::to_string(compute.scratch_offset + compute.scratch_bytes)});
}

TEST(PlanChecker, ArenaOverRamBudget) {
  Fixture f = channel_split_plan();
  f.plan.cluster.devices[0].ram_bytes = 400;
  participant(f.plan, 0).ram_bytes = 400;
  const int64_t arena = participant(f.plan, 0).arena_bytes;  // 512 of buffers, then scratch
  EXPECT_GT(arena, 512);
  expect_problem(
      f.plan, f.graph,
      {"participant 'dev-0' (#0): arena of " + std::to_string(arena) + " bytes and the runtime's " +
       std::to_string(core::kDeviceRuntimeRamBytes) + " exceed its RAM budget of 400"});
  // The budget is the whole RAM: the arena and the runtime's share, exactly.
  const int64_t whole = arena + core::kDeviceRuntimeRamBytes;
  f.plan.cluster.devices[0].ram_bytes = participant(f.plan, 0).ram_bytes = whole;
  expect_valid(f.plan, f.graph);
  f.plan.cluster.devices[0].ram_bytes = participant(f.plan, 0).ram_bytes = whole - 1;
  expect_problem(f.plan, f.graph, {"exceed its RAM budget of " + std::to_string(whole - 1)});
}

TEST(PlanChecker, RuntimeShareIsTheFirmwares) {
  Fixture f = channel_split_plan();
  participant(f.plan, 0).runtime_bytes = 0;
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0): charges 0 bytes for the device runtime's own RAM, "
                  "which is " +
                  std::to_string(core::kDeviceRuntimeRamBytes)});
}

TEST(PlanChecker, BudgetsMustBeTheClusters) {
  Fixture f = channel_split_plan();
  participant(f.plan, 0).ram_bytes = 1 << 30;
  expect_problem(f.plan, f.graph, {"participant 'dev-0' (#0): budgets", "differ from the cluster"});
}

TEST(PlanChecker, WeightSliceMustHoldTheComputedChannels) {
  Fixture f = channel_split_plan();
  WeightSlice& w = participant(f.plan, 1).weights[0];
  w.c0 = 0;
  w.c1 = 4;
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-1' (#1) op 1 (compute, step 0): computes channels [4, 8) of "
                  "layer 'Conv_0' (Conv), but its weight slice holds [0, 4)"});
}

TEST(PlanChecker, WeightSliceBytesMustMatchTheLayer) {
  Fixture f = channel_split_plan();
  participant(f.plan, 0).weights[0].bytes -= 1;
  finalize(f.plan);
  // 4 channels of 3x3x4 weights plus bias, multiplier and shift (4 bytes each).
  expect_problem(
      f.plan, f.graph,
      {"weight slice 0 (layer #0, channels [0, 4))", "191 bytes", "hold 192 bytes of constants"});
}

TEST(PlanChecker, MissingWeightSliceAndFlashBudget) {
  Fixture f = channel_split_plan();
  participant(f.plan, 0).weights.clear();
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 1 (compute, step 0): no weight "
                  "slice for layer 'Conv_0'"});
  Fixture g = channel_split_plan();
  g.plan.cluster.devices[1].flash_bytes = 100;
  participant(g.plan, 1).flash_bytes = 100;
  expect_problem(g.plan, g.graph,
                 {"participant 'dev-1' (#1): 192 bytes of weights exceed its flash budget of 100"});
}

TEST(PlanChecker, ReorderedOpsDeadlock) {
  Fixture f = channel_split_plan();
  // The coordinator waits for dev-0's result before sending it the input.
  auto& ops = participant(f.plan, 2).ops;
  std::swap(ops[1], ops[3]);
  expect_problem(f.plan, f.graph,
                 {"coordinator 'coordinator' (#2) op 2 (send, step 0): follows "
                  "op 1 of the later step 1"});
  expect_problem(f.plan, f.graph,
                 {"deadlock: no participant can proceed",
                  "coordinator 'coordinator' (#2) op 1 (receive, step 1) waits for tensor "
                  "'Conv_0_out' [c 0:4, y 0:8, x 0:8] from participant 'dev-0' (#0)",
                  "participant 'dev-0' (#0) op 0 (receive, step 0) waits for tensor 'input'"});
}

TEST(PlanChecker, OrderWithinAStep) {
  Fixture f = channel_split_plan();
  auto& ops = participant(f.plan, 0).ops;
  std::swap(ops[0], ops[1]);  // compute before the input arrives
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 1 (receive, step 0): follows "
                  "op 0 (compute) of the same step"});
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 0 (compute, step 0): input 0 of layer 'Conv_0' "
                  "(Conv) reads data that is not there",
                  "nothing valid"});
}

TEST(PlanChecker, LoadAndStoreOnlyOnTheCoordinatorAtTheirSteps) {
  Fixture f = channel_split_plan();
  find_op(f.plan, 2, OpKind::StoreOutput).step = 0;
  expect_problem(f.plan, f.graph,
                 {"op 5 (store_output, step 0): only the coordinator stores the "
                  "output, at step 1"});
  Fixture g = channel_split_plan();
  participant(g.plan, 0).ops.insert(participant(g.plan, 0).ops.begin(),
                                    find_op(g.plan, 2, OpKind::LoadInput));
  expect_problem(g.plan, g.graph,
                 {"participant 'dev-0' (#0) op 0 (load_input, step 0): only the "
                  "coordinator loads the input"});
  Fixture h = channel_split_plan();
  erase_op(h.plan, 2, OpKind::LoadInput);
  expect_problem(h.plan, h.graph,
                 {"coordinator 'coordinator' (#2): has 0 load_input and 1 store_output ops"});
}

TEST(PlanChecker, ParticipantsAndLayerPlansMatchTheClusterAndGraph) {
  Fixture f = channel_split_plan();
  participant(f.plan, 2).coordinator = false;
  participant(f.plan, 1).coordinator = true;
  expect_problem(f.plan, f.graph, {"'dev-1' (#1): the coordinator flag"});
  Fixture g = channel_split_plan();
  g.plan.layers.emplace_back();
  expect_problem(g.plan, g.graph, {"the plan has 2 layer plans for a graph of 1 layers"});
  Fixture h = channel_split_plan();
  h.plan.participants.erase(h.plan.participants.begin());
  expect_problem(h.plan, h.graph, {"the plan has 2 participants for 2 devices"});
}

TEST(PlanChecker, BadIndicesAreReportedNotFollowed) {
  Fixture f = channel_split_plan();
  find_op(f.plan, 0, OpKind::Compute).dst_buffer = 7;
  find_op(f.plan, 1, OpKind::Send).peer = 1;
  find_op(f.plan, 1, OpKind::Compute).inputs.clear();
  expect_problem(f.plan, f.graph,
                 {"dev-0' (#0) op 1 (compute, step 0): output buffer index 7 "
                  "out of range"});
  expect_problem(f.plan, f.graph,
                 {"dev-1' (#1) op 2 (send, step 1): peer 1 is not another participant"});
  expect_problem(f.plan, f.graph,
                 {"dev-1' (#1) op 1 (compute, step 0): 0 input buffers for the "
                  "1 inputs of layer 'Conv_0'"});
}

TEST(PlanChecker, EstimatesFollowTheOps) {
  Fixture f = channel_split_plan();
  participant(f.plan, 0).estimate.bytes_sent += 1;
  participant(f.plan, 1).estimate.live_bytes[1] = 0;
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0): estimate says 257 bytes sent and "
                  "256 received, its Send/Receive ops move 256 and 256"});
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-1' (#1): estimated live bytes disagree with its buffers and "
                  "kernel scratch",
                  "step 1: 0 bytes, live then: 256 bytes"});
}

TEST(PlanChecker, RequireValidPlanThrowsWithTheFirstProblems) {
  Fixture f = channel_split_plan();
  erase_op(f.plan, 2, OpKind::Send, 1);
  try {
    require_valid_plan(f.plan, f.graph, "test.plan");
    ADD_FAILURE() << "expected an mcusplit::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitFailure);
    EXPECT_NE(std::string(e.what()).find("test.plan: invalid plan ("), std::string::npos)
        << e.what();
  }
}

// ---------------------------------------------------------------------------
// Plan B: two 3x3 convs (2x6x6 -> 4x6x6 -> 3x6x6) split in row bands over two
// devices that exchange one halo row of the middle tensor.

struct SpatialFixture {
  QGraph graph;
  Plan plan;
  int in = 0;
  int t1 = 0;
  int t2 = 0;
};

SpatialFixture spatial_plan() {
  QGraphBuilder b(2);
  SpatialFixture f;
  f.in = b.input(TensorShape3{2, 6, 6});
  f.t1 = b.conv(f.in, 4, 3, 1, 1);
  f.t2 = b.conv(f.t1, 3, 3, 1, 1);
  f.graph = b.finish(f.t2);
  PlanMaker m(f.graph, 2);
  const int c = m.coordinator();
  const int c_in = m.buffer(c, f.in, m.full(f.in), 0, 0, 0);
  const int c_out = m.buffer(c, f.t2, m.full(f.t2), 2, 2, 0);
  m.load(c_in);
  m.send(c, 0, 0, f.in, m.rows(f.in, 0, 4), c_in);
  m.send(c, 0, 1, f.in, m.rows(f.in, 2, 6), c_in);
  m.receive(c, 2, 0, f.t2, m.rows(f.t2, 0, 3), c_out);
  m.receive(c, 2, 1, f.t2, m.rows(f.t2, 3, 6), c_out);
  m.store(c_out);
  // dev-0: rows 0..3 of both layers; needs input rows 0..4 and t1 row 3 (halo).
  // The output of layer 1 reuses the input's bytes (dead after step 0).
  {
    const int t1 = m.buffer(0, f.t1, m.rows(f.t1, 0, 4), 0, 1, 0);
    const int x = m.buffer(0, f.in, m.rows(f.in, 0, 4), 0, 0, 96);
    const int t2 = m.buffer(0, f.t2, m.rows(f.t2, 0, 3), 1, 2, 96);
    m.receive(0, 0, c, f.in, m.rows(f.in, 0, 4), x);
    m.compute(0, 0, m.rows(f.t1, 0, 3), t1, {x});
    m.send(0, 1, 1, f.t1, m.rows(f.t1, 2, 3), t1);
    m.receive(0, 1, 1, f.t1, m.rows(f.t1, 3, 4), t1);
    m.compute(0, 1, m.rows(f.t2, 0, 3), t2, {t1});
    m.send(0, 2, c, f.t2, m.rows(f.t2, 0, 3), t2);
  }
  // dev-1: rows 3..6; needs input rows 2..6 and t1 row 2.
  {
    const int t1 = m.buffer(1, f.t1, m.rows(f.t1, 2, 6), 0, 1, 0);
    const int x = m.buffer(1, f.in, m.rows(f.in, 2, 6), 0, 0, 96);
    const int t2 = m.buffer(1, f.t2, m.rows(f.t2, 3, 6), 1, 2, 96);
    m.receive(1, 0, c, f.in, m.rows(f.in, 2, 6), x);
    m.compute(1, 0, m.rows(f.t1, 3, 6), t1, {x});
    m.send(1, 1, 0, f.t1, m.rows(f.t1, 3, 4), t1);
    m.receive(1, 1, 0, f.t1, m.rows(f.t1, 2, 3), t1);
    m.compute(1, 1, m.rows(f.t2, 3, 6), t2, {t1});
    m.send(1, 2, c, f.t2, m.rows(f.t2, 3, 6), t2);
  }
  m.strategy(0, Strategy::Spatial);
  m.strategy(1, Strategy::Spatial);
  f.plan = m.finish();
  return f;
}

TEST(PlanChecker, SpatialPlanWithHalosIsValid) {
  const SpatialFixture f = spatial_plan();
  expect_valid(f.plan, f.graph);
}

TEST(PlanChecker, MissingHaloRowIsReportedAtTheInputBuffer) {
  SpatialFixture f = spatial_plan();
  // The coordinator sends dev-0 one input row too few (consistently on both ends).
  find_op(f.plan, 2, OpKind::Send, 0).box.y1 = 3;
  find_op(f.plan, 0, OpKind::Receive, 0).box.y1 = 3;
  participant(f.plan, 0).buffers[1].box.y1 = 3;
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 1 (compute, step 0): input 0 of layer 'Conv_0' "
                  "(Conv) needs tensor 'input' [c 0:2, y 0:4, x 0:6], which its buffer #1 "
                  "(tensor 'input' [c 0:2, y 0:3, x 0:6]",
                  "does not cover"});
}

TEST(PlanChecker, HaloNeverFilledIsStaleData) {
  SpatialFixture f = spatial_plan();
  // dev-1 neither sends nor receives the halo rows: dev-0 reads row 3 of t1
  // from bytes nothing wrote, and dev-1 reads row 2 likewise.
  erase_op(f.plan, 1, OpKind::Send, 0);
  erase_op(f.plan, 1, OpKind::Receive, 1);
  erase_op(f.plan, 0, OpKind::Send, 0);
  erase_op(f.plan, 0, OpKind::Receive, 1);
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 2 (compute, step 1): input 0 of layer 'Conv_1' "
                  "(Conv) reads data that is not there: element (c 0, y 3, x 0) of tensor "
                  "'Conv_0_out'",
                  "nothing valid", "24 of 96 elements read are wrong"});
}

TEST(PlanChecker, LifetimeEndingTooEarlyLetsBytesBeReused) {
  SpatialFixture f = spatial_plan();
  // dev-0's t1 buffer claims to die at step 0, so t2 takes its bytes at step 1.
  auto& buffers = participant(f.plan, 0).buffers;
  set_lifetime_steps(f.plan, 0, 0, 0, 0);
  buffers[2].offset = 0;
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 4 (compute, step 1): input 0 buffer #0", "ops 0..1",
                  "is used outside its lifetime"});
}

TEST(PlanChecker, DataLeftInBytesAnotherBufferReused) {
  SpatialFixture f = spatial_plan();
  // dev-0 keeps t1 in two records (steps 0 and 1). At the same offset that
  // is valid: the bytes carry over.
  auto& buffers = participant(f.plan, 0).buffers;
  PlanBuffer later = buffers[0];
  buffers.push_back(later);
  set_lifetime_steps(f.plan, 0, 0, 0, 0);
  set_lifetime_steps(f.plan, 0, 3, 1, 1);
  for (PlanOp& o : participant(f.plan, 0).ops) {
    if (o.step != 1) continue;
    if (o.src_buffer == 0) o.src_buffer = 3;
    if (o.dst_buffer == 0) o.dst_buffer = 3;
    for (int& i : o.inputs) {
      if (i == 0) i = 3;
    }
  }
  buffers[2].offset = 150;  // t2 elsewhere
  rehome_scratch(f.plan, 0);
  finalize(f.plan);
  expect_valid(f.plan, f.graph);
  // At another offset, the step-1 record reads bytes the input buffer (dead
  // after step 0) and the first record left behind.
  buffers[3].offset = 54;
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 2 (send, step 1): sends data that is not there: "
                  "element (c 0, y 2, x 0) of tensor 'Conv_0_out' in buffer #3",
                  "which holds element"});
  expect_problem(f.plan, f.graph,
                 {"op 4 (compute, step 1): input 0 of layer 'Conv_1' (Conv) reads data that is "
                  "not there: element (c 0, y 0, x 0) of tensor 'Conv_0_out' in buffer #3",
                  "which holds element (c 2, y 2, x 1) of tensor 'Conv_0_out'"});
}

TEST(PlanChecker, SendingDataNotComputedYet) {
  SpatialFixture f = spatial_plan();
  // dev-0 sends row 3 of t1, which it does not compute (it receives it later).
  find_op(f.plan, 0, OpKind::Send, 0).box = Box{0, 4, 3, 4, 0, 6};
  find_op(f.plan, 1, OpKind::Receive, 1).box = Box{0, 4, 3, 4, 0, 6};
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-0' (#0) op 2 (send, step 1): sends data that is not there: "
                  "element (c 0, y 3, x 0) of tensor 'Conv_0_out'"});
  expect_problem(f.plan, f.graph,
                 {"participant 'dev-1' (#1) op 4 (compute, step 1): input 0 of layer 'Conv_1'",
                  "element (c 0, y 2, x 0) of tensor 'Conv_0_out'"});
}

TEST(PlanChecker, MessagesArriveInOrder) {
  SpatialFixture f = spatial_plan();
  // dev-0 sends its t2 rows in two messages; the coordinator receives them
  // swapped.
  auto& dev_ops = participant(f.plan, 0).ops;
  PlanOp second = dev_ops.back();
  dev_ops.back().box.y1 = 1;
  second.box.y0 = 1;
  dev_ops.push_back(second);
  auto& c_ops = participant(f.plan, 2).ops;
  PlanOp first = c_ops[3];
  c_ops[3].box.y0 = 1;
  first.box.y1 = 1;
  c_ops.insert(c_ops.begin() + 4, first);
  finalize(f.plan);
  expect_problem(f.plan, f.graph,
                 {"coordinator 'coordinator' (#2) op 3 (receive, step 2): expects tensor "
                  "'Conv_1_out' [c 0:3, y 1:3, x 0:6] from participant 'dev-0' (#0), but the next "
                  "message from it is tensor 'Conv_1_out' [c 0:3, y 0:1, x 0:6]"});
}

TEST(PlanChecker, MessagesAreReceivedInTheirStep) {
  SpatialFixture f = spatial_plan();
  // The coordinator receives dev-0's rows at step 2, dev-0 sends them at step 1
  // (after computing them at step 1, which breaks the order within the step).
  auto& dev_ops = participant(f.plan, 0).ops;
  dev_ops.back().step = 1;
  expect_problem(f.plan, f.graph,
                 {"op 3 (receive, step 2): receives the message participant 'dev-0' (#0) op 5 "
                  "(send, step 1) sent at step 1"});
}

// Plan F: the same layers fused in two bands: each device recomputes the t1
// rows it needs, so no halo crosses the network and layer 0's boxes overlap.
SpatialFixture fused_plan(Strategy first_layer) {
  QGraphBuilder b(2);
  SpatialFixture f;
  f.in = b.input(TensorShape3{2, 6, 6});
  f.t1 = b.conv(f.in, 4, 3, 1, 1);
  f.t2 = b.conv(f.t1, 3, 3, 1, 1);
  f.graph = b.finish(f.t2);
  PlanMaker m(f.graph, 2);
  const int c = m.coordinator();
  const int c_in = m.buffer(c, f.in, m.full(f.in), 0, 0, 0);
  const int c_out = m.buffer(c, f.t2, m.full(f.t2), 2, 2, 0);
  const int32_t in_rows[2][2] = {{0, 5}, {1, 6}};
  const int32_t t1_rows[2][2] = {{0, 4}, {2, 6}};
  const int32_t t2_rows[2][2] = {{0, 3}, {3, 6}};
  m.load(c_in);
  for (int d = 0; d < 2; ++d)
    m.send(c, 0, d, f.in, m.rows(f.in, in_rows[d][0], in_rows[d][1]), c_in);
  for (int d = 0; d < 2; ++d) {
    m.receive(c, 2, d, f.t2, m.rows(f.t2, t2_rows[d][0], t2_rows[d][1]), c_out);
  }
  m.store(c_out);
  for (int d = 0; d < 2; ++d) {
    const Box x_box = m.rows(f.in, in_rows[d][0], in_rows[d][1]);
    const Box t1_box = m.rows(f.t1, t1_rows[d][0], t1_rows[d][1]);
    const Box t2_box = m.rows(f.t2, t2_rows[d][0], t2_rows[d][1]);
    const int t1 = m.buffer(d, f.t1, t1_box, 0, 1, 0);
    const int x = m.buffer(d, f.in, x_box, 0, 0, 96);
    const int t2 = m.buffer(d, f.t2, t2_box, 1, 2, 96);
    m.receive(d, 0, c, f.in, x_box, x);
    m.compute(d, 0, t1_box, t1, {x});
    m.compute(d, 1, t2_box, t2, {t1});
    m.send(d, 2, c, f.t2, t2_box, t2);
  }
  m.strategy(0, first_layer);
  m.strategy(1, Strategy::Fused);
  f.plan = m.finish();
  return f;
}

TEST(PlanChecker, FusedBandsMayOverlap) {
  const SpatialFixture f = fused_plan(Strategy::Fused);
  expect_valid(f.plan, f.graph);
}

TEST(PlanChecker, SpatialBandsMayNotOverlap) {
  const SpatialFixture f = fused_plan(Strategy::Spatial);
  expect_problem(f.plan, f.graph,
                 {"layer 'Conv_0' (Conv): spatial split boxes of participant 'dev-0' (#0) and "
                  "participant 'dev-1' (#1) overlap in [c 0:4, y 2:4, x 0:6]"});
}

TEST(PlanChecker, BoxShapeFollowsTheStrategy) {
  const SpatialFixture f = fused_plan(Strategy::Single);
  expect_problem(f.plan, f.graph,
                 {"layer 'Conv_0' (Conv): box [c 0:4, y 0:4, x 0:6] of "
                  "participant 'dev-0' (#0) does not have the shape of a "
                  "single split"});
}

TEST(PlanChecker, ChannelBoxesHoldAllPixelsOrShareABandOfChannels) {
  // Slow devices share a band of channels split by pixels (partition.h):
  // two row bands of the same channels have the shape of a channel split.
  SpatialFixture f = spatial_plan();
  f.plan.layers[0].strategy = Strategy::Channel;
  const auto problems = check_plan(f.plan, f.graph);
  EXPECT_TRUE(std::none_of(problems.begin(), problems.end(), [](const std::string& p) {
    return p.find("shape") != std::string::npos;
  })) << joined(problems);
  // Part of the pixels of channels no other box holds has not.
  f.plan.layers[0].boxes[0] = Box{0, 2, 0, 3, 0, 6};
  expect_problem(f.plan, f.graph,
                 {"layer 'Conv_0' (Conv): box [c 0:2, y 0:3, x 0:6] of "
                  "participant 'dev-0' (#0) does not have the shape of a "
                  "channel split"});
}

TEST(PlanChecker, SpatialTilesHoldAllChannels) {
  SpatialFixture f = spatial_plan();
  // A column tile has the shape of a spatial split, a channel slice has not.
  f.plan.layers[1].boxes[0] = Box{0, 3, 0, 3, 0, 4};
  const auto problems = check_plan(f.plan, f.graph);
  EXPECT_TRUE(std::none_of(problems.begin(), problems.end(), [](const std::string& p) {
    return p.find("shape") != std::string::npos;
  })) << joined(problems);
  f.plan.layers[1].boxes[0] = Box{0, 2, 0, 3, 0, 6};
  expect_problem(f.plan, f.graph,
                 {"layer 'Conv_1' (Conv): box [c 0:2, y 0:3, x 0:6] of "
                  "participant 'dev-0' (#0) does not have the shape of a "
                  "spatial split"});
}

// ---------------------------------------------------------------------------
// The checker's own receptive fields.

using checker::InputNeed;
using checker::needed_inputs;

std::vector<int32_t> iota(int32_t begin, int32_t end) {
  std::vector<int32_t> v;
  for (int32_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

TEST(CheckerGeometry, StridedConvReadsEveryOtherRow) {
  QGraphBuilder b(3);
  const int in = b.input(TensorShape3{3, 9, 9});
  b.conv(in, 5, 1, 2, 0);  // 1x1 stride 2: rows 0, 2, 4, ...
  const QGraph g = b.finish(1);
  const auto needs = needed_inputs(g, g.layers[0], Box{1, 2, 1, 3, 0, 5});
  ASSERT_EQ(needs.size(), 1u);
  EXPECT_EQ(needs[0].cs, iota(0, 3));
  EXPECT_EQ(needs[0].ys, (std::vector<int32_t>{2, 4}));
  EXPECT_EQ(needs[0].xs, (std::vector<int32_t>{0, 2, 4, 6, 8}));
}

TEST(CheckerGeometry, DilatedPaddedConvSkipsPaddingAndGaps) {
  QGraphBuilder b(3);
  const int in = b.input(TensorShape3{2, 10, 10});
  b.conv(in, 2, 3, 1, 1);
  QGraph g = b.finish(1);
  g.layers[0].conv.dilation_h = g.layers[0].conv.dilation_w = 2;
  g.layers[0].conv.pad_top = g.layers[0].conv.pad_left = 2;
  EXPECT_EQ(checker::layer_geometry_problem(g, g.layers[0]), "");
  // Output row 0 reads rows -2 (padding), 0, 2; row 9 reads 7, 9, 11 (padding).
  const auto top = needed_inputs(g, g.layers[0], Box{0, 2, 0, 1, 0, 10});
  EXPECT_EQ(top[0].ys, (std::vector<int32_t>{0, 2}));
  const auto bottom = needed_inputs(g, g.layers[0], Box{0, 2, 9, 10, 4, 5});
  EXPECT_EQ(bottom[0].ys, (std::vector<int32_t>{7, 9}));
  EXPECT_EQ(bottom[0].xs, (std::vector<int32_t>{2, 4, 6}));
}

TEST(CheckerGeometry, DepthwiseAndGroupedChannels) {
  QGraphBuilder b(3);
  const int in = b.input(TensorShape3{6, 4, 4});
  const int dw = b.conv(in, 12, 3, 1, 1, 6);  // depth multiplier 2
  b.conv(dw, 6, 1, 1, 0, 3);                  // 3 groups: 4 inputs -> 2 outputs each
  const QGraph g = b.finish(2);
  EXPECT_EQ(needed_inputs(g, g.layers[0], Box{3, 6, 0, 4, 0, 4})[0].cs, iota(1, 3));
  EXPECT_EQ(needed_inputs(g, g.layers[1], Box{1, 3, 0, 1, 0, 1})[0].cs, iota(0, 8));
  EXPECT_EQ(needed_inputs(g, g.layers[1], Box{4, 5, 0, 1, 0, 1})[0].cs, iota(8, 12));
}

TEST(CheckerGeometry, PoolsConcatGlobalPoolFullyConnectedReshape) {
  QGraphBuilder b(3);
  const int in = b.input(TensorShape3{2, 7, 7});
  const int pool = b.pool(OpType::AveragePool, in, 3, 2, 1);  // 2x4x4
  const int a = b.conv(pool, 3, 1, 1, 0);
  const int cat = b.concat({pool, a});  // 5x4x4
  const int gap = b.global_average_pool(cat);
  const int flat = b.reshape(cat, TensorShape3{80, 1, 1});
  b.fully_connected(flat, 4);
  const QGraph g = b.finish(gap);
  // Pool row 0 reads rows -1 (padding), 0, 1; row 3 reads 5, 6, 7 (outside).
  const auto p = needed_inputs(g, g.layers[0], Box{1, 2, 0, 1, 3, 4});
  EXPECT_EQ(p[0].ys, iota(0, 2));
  EXPECT_EQ(p[0].xs, iota(5, 7));
  // Concat channels 1..3: channel 1 of the pool, channel 0 of the conv.
  const auto c = needed_inputs(g, g.layers[2], Box{1, 3, 0, 2, 0, 4});
  EXPECT_EQ(c[0].cs, iota(1, 2));
  EXPECT_EQ(c[1].cs, iota(0, 1));
  EXPECT_EQ(c[1].ys, iota(0, 2));
  EXPECT_TRUE(needed_inputs(g, g.layers[2], Box{2, 5, 0, 1, 0, 1})[0].empty());
  const auto gp = needed_inputs(g, g.layers[3], Box{4, 5, 0, 1, 0, 1});
  EXPECT_EQ(gp[0].cs, iota(4, 5));
  EXPECT_EQ(gp[0].ys, iota(0, 4));
  // Flat element 12 of {80,1,1} is element (c 2, y 0, x 2) of {5,4,4}.
  const auto r = needed_inputs(g, g.layers[4], Box{12, 13, 0, 1, 0, 1});
  ASSERT_TRUE(r[0].flat);
  const Box bounds = checker::need_bounds(r[0], TensorShape3{5, 4, 4}, TensorShape3{80, 1, 1});
  EXPECT_EQ(bounds, (Box{2, 3, 0, 1, 2, 3}));
  const auto fc = needed_inputs(g, g.layers[5], Box{1, 2, 0, 1, 0, 1});
  EXPECT_EQ(fc[0].cs, iota(0, 80));
}

// ---------------------------------------------------------------------------
// A naive but valid plan for any graph: every layer split by output channels
// over all devices, every device holding whole tensors, results all-gathered
// the step after they are computed. It exercises the checker on every layer
// kind of the random graphs.

Plan all_gather_plan(const QGraph& g, int devices) {
  PlanMaker m(g, devices);
  const int steps = static_cast<int>(g.layers.size());
  const int c = m.coordinator();
  std::vector<int> producer(g.tensors.size(), 0);
  std::vector<int> last_use(g.tensors.size(), -1);
  for (int l = 0; l < steps; ++l) {
    const QLayer& layer = g.layers[static_cast<size_t>(l)];
    producer[static_cast<size_t>(layer.output)] = l;
    last_use[static_cast<size_t>(layer.output)] = l;  // written, maybe never read
    for (int t : layer.inputs) last_use[static_cast<size_t>(t)] = l;
  }
  last_use[static_cast<size_t>(g.output)] = steps;
  const auto share = [&](int l, int d) {
    const int t = g.layers[static_cast<size_t>(l)].output;
    const int32_t ch = m.shape(t).c;
    return m.channels(t, ch * d / devices, ch * (d + 1) / devices);
  };
  // Every device: one whole buffer per tensor, bump-allocated.
  std::vector<std::vector<int>> buf(static_cast<size_t>(devices),
                                    std::vector<int>(g.tensors.size(), -1));
  for (int d = 0; d < devices; ++d) {
    int64_t offset = 0;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      if (last_use[t] < 0) continue;
      const int first = static_cast<int>(t) == g.input ? 0 : producer[t];
      buf[static_cast<size_t>(d)][t] = m.buffer(d, static_cast<int>(t), m.full(static_cast<int>(t)),
                                                first, std::max(last_use[t], first), offset);
      offset += g.tensors[t].bytes();
    }
  }
  const int c_in = m.buffer(c, g.input, m.full(g.input), 0, 0, 0);
  const int c_out = m.buffer(c, g.output, m.full(g.output), steps, steps, 0);
  m.load(c_in);
  for (int d = 0; d < devices; ++d) m.send(c, 0, d, g.input, m.full(g.input), c_in);
  for (int d = 0; d < devices; ++d) {
    const auto& mine = buf[static_cast<size_t>(d)];
    for (int s = 0; s <= steps; ++s) {
      if (s == 0) m.receive(d, 0, c, g.input, m.full(g.input), mine[static_cast<size_t>(g.input)]);
      if (s > 0) {  // all-gather the previous layer's output, or hand it to the coordinator
        const int t = g.layers[static_cast<size_t>(s - 1)].output;
        const int b = mine[static_cast<size_t>(t)];
        if (s == steps) {
          if (!share(s - 1, d).empty()) m.send(d, s, c, t, share(s - 1, d), b);
        } else if (last_use[static_cast<size_t>(t)] >= s) {
          for (int e = 0; e < devices; ++e) {
            if (e != d && !share(s - 1, d).empty()) m.send(d, s, e, t, share(s - 1, d), b);
          }
          for (int e = 0; e < devices; ++e) {
            if (e != d && !share(s - 1, e).empty()) m.receive(d, s, e, t, share(s - 1, e), b);
          }
        }
      }
      if (s < steps && !share(s, d).empty()) {
        const QLayer& layer = g.layers[static_cast<size_t>(s)];
        std::vector<int> inputs;
        for (int t : layer.inputs) inputs.push_back(mine[static_cast<size_t>(t)]);
        m.compute(d, s, share(s, d), mine[static_cast<size_t>(layer.output)], inputs);
      }
    }
  }
  for (int d = 0; d < devices; ++d) {
    if (!share(steps - 1, d).empty()) m.receive(c, steps, d, g.output, share(steps - 1, d), c_out);
  }
  m.store(c_out);
  for (int l = 0; l < steps; ++l)
    m.strategy(l, devices == 1 ? Strategy::Single : Strategy::Channel);
  return m.finish();
}

TEST(PlanChecker, AllGatherPlansOfRandomGraphsAreValid) {
  for (uint32_t seed = 0; seed < 60; ++seed) {
    const QGraph g = testing::random_cnn(seed);
    for (int devices : {1, 3}) {
      const Plan plan = all_gather_plan(g, devices);
      const auto problems = check_plan(plan, g);
      ASSERT_TRUE(problems.empty())
          << "seed " << seed << ", " << devices << " devices:" << joined(problems);
    }
  }
}

TEST(PlanChecker, EveryDroppedMessageIsCaught) {
  for (uint32_t seed = 0; seed < 8; ++seed) {
    const QGraph g = testing::random_cnn(seed);
    const Plan plan = all_gather_plan(g, 2);
    for (int p = 0; p < static_cast<int>(plan.participants.size()); ++p) {
      const auto& ops = plan.participants[static_cast<size_t>(p)].ops;
      for (size_t i = 0; i < ops.size(); ++i) {
        if (ops[i].kind != OpKind::Send && ops[i].kind != OpKind::Receive) continue;
        Plan broken = plan;
        auto& bops = broken.participants[static_cast<size_t>(p)].ops;
        bops.erase(bops.begin() + static_cast<std::ptrdiff_t>(i));
        finalize(broken);
        EXPECT_FALSE(check_plan(broken, g).empty())
            << "seed " << seed << " participant " << p << " op " << i;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// The generators.

TEST(RandomModels, GraphsAreValidDeterministicAndVaried) {
  std::set<OpType> ops;
  int dilated = 0;
  int depthwise = 0;
  int grouped = 0;
  for (uint32_t seed = 0; seed < 300; ++seed) {
    const QGraph g = testing::random_cnn(seed);
    ASSERT_NO_THROW(quant::validate_qgraph(g, "random_cnn")) << "seed " << seed;
    ASSERT_FALSE(g.layers.empty());
    const TensorShape3 in = g.tensors[static_cast<size_t>(g.input)].shape;
    EXPECT_TRUE(1 <= in.c && in.c <= 16 && 8 <= in.h && in.h <= 40 && 8 <= in.w && in.w <= 40);
    for (const QLayer& l : g.layers) {
      ops.insert(l.op);
      if (l.op != OpType::Conv) continue;
      dilated += l.conv.dilation_h > 1 ? 1 : 0;
      depthwise += l.conv.groups > 1 && l.conv.groups == l.conv.input.c ? 1 : 0;
      grouped += l.conv.groups > 1 && l.conv.groups < l.conv.input.c ? 1 : 0;
    }
    const QGraph again = testing::random_cnn(seed);
    ASSERT_EQ(again.layers.size(), g.layers.size());
    for (size_t i = 0; i < g.layers.size(); ++i) {
      EXPECT_EQ(again.layers[i].name, g.layers[i].name);
      EXPECT_EQ(again.layers[i].weights, g.layers[i].weights);
      EXPECT_EQ(again.tensors[static_cast<size_t>(again.layers[i].output)].shape,
                g.tensors[static_cast<size_t>(g.layers[i].output)].shape);
    }
  }
  EXPECT_EQ(ops.size(), 8u) << "every operator appears";
  EXPECT_GT(dilated, 0);
  EXPECT_GT(depthwise, 0);
  EXPECT_GT(grouped, 0);
}

TEST(RandomModels, GraphsRunOnTheKernels) {
  for (uint32_t seed = 0; seed < 40; ++seed) {
    const QGraph g = testing::random_cnn(seed);
    const std::vector<int8_t> input(
        static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()), 3);
    const auto out = mcusplit::testing::evaluate_without_arena(g, input);
    EXPECT_EQ(static_cast<int64_t>(out.size()), g.tensors[static_cast<size_t>(g.output)].bytes());
  }
}

TEST(RandomModels, ClustersAreValidDeterministicAndVaried) {
  std::set<int> counts;
  std::set<Topology> topologies;
  std::set<std::string> profiles;
  bool mixed = false;
  for (uint32_t seed = 0; seed < 300; ++seed) {
    const ClusterSpec c = testing::random_cluster(seed);
    ASSERT_NO_THROW(validate_cluster(c, "random_cluster")) << "seed " << seed;
    EXPECT_TRUE(1 <= c.device_count() && c.device_count() <= 16);
    counts.insert(c.device_count());
    topologies.insert(c.topology);
    std::set<std::string> here;
    for (const DeviceSpec& d : c.devices) {
      here.insert(d.profile);
      EXPECT_LE(d.ram_bytes, find_device_profile(d.profile)->ram_bytes);
    }
    mixed = mixed || here.size() > 1;
    profiles.insert(here.begin(), here.end());
    const ClusterSpec again = testing::random_cluster(seed);
    ASSERT_EQ(again.device_count(), c.device_count());
    for (int i = 0; i < c.device_count(); ++i) {
      EXPECT_EQ(again.devices[static_cast<size_t>(i)].name, c.devices[static_cast<size_t>(i)].name);
      EXPECT_EQ(again.devices[static_cast<size_t>(i)].ram_bytes,
                c.devices[static_cast<size_t>(i)].ram_bytes);
    }
  }
  EXPECT_EQ(counts.size(), 16u);
  EXPECT_EQ(topologies.size(), 3u);
  EXPECT_EQ(profiles.size(), device_profiles().size());
  EXPECT_TRUE(mixed);
}

}  // namespace
}  // namespace mcusplit::plan
