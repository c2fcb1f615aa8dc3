#include "plan/plan_builder.h"

#include <algorithm>
#include <climits>
#include <tuple>

#include "common/error.h"
#include "common/memory_planner.h"
#include "core/device_runtime_ram.h"
#include "kernels/op_registry.h"
#include "plan/box_algebra.h"
#include "plan/layer_geometry.h"
#include "plan/tiled_runs.h"

namespace mcusplit::plan {

using core::Box;
using quant::QGraph;
using quant::QLayer;

namespace {

// What one participant does with one tensor.
struct Holding {
  Box produced;
  int produce_step = -1;
  Box needed;
  int first_need = INT_MAX;
  int last_need = -1;
  int receive_step = -1;  // when the missing part of `needed` arrives
  int last_read = -1;     // last step a send or copy reads the produced part
  int produce_buffer = -1;
  int need_buffer = -1;
};

struct Transfer {
  int step = 0;
  int tensor = 0;
  int src = 0;
  int dst = 0;
  Box box;

  auto key() const {
    return std::make_tuple(step, tensor, src, dst, box.c0, box.y0, box.x0, box.c1, box.y1, box.x1);
  }
};

// The most bytes live at any op of each step: buffers whose lifetime covers
// the op and its kernel scratch. A step without ops holds what spans the gap
// (buffers from earlier ops still needed by later ones). A buffer computed
// in place over another (`home`) adds its bytes only after its first op,
// where its input still holds them.
std::vector<int64_t> live_bytes_per_step(const ParticipantPlan& pp, int steps,
                                         const std::vector<int>& home) {
  const size_t n = pp.ops.size();
  std::vector<int64_t> delta(n + 1, 0);
  std::vector<int64_t> born(n + 1, 0);
  for (size_t i = 0; i < pp.buffers.size(); ++i) {
    const PlanBuffer& b = pp.buffers[i];
    const int first = home[i] == static_cast<int>(i) ? b.first_op : b.first_op + 1;
    if (first > b.last_op) continue;
    delta[static_cast<size_t>(first)] += b.bytes();
    delta[static_cast<size_t>(b.last_op) + 1] -= b.bytes();
    born[static_cast<size_t>(first)] += b.bytes();
  }
  std::vector<int64_t> live(static_cast<size_t>(steps), 0);
  std::vector<bool> has_op(static_cast<size_t>(steps), false);
  int64_t running = 0;
  size_t i = 0;
  for (int s = 0; s < steps; ++s) {
    for (; i < n && pp.ops[i].step == s; ++i) {
      running += delta[i];
      has_op[static_cast<size_t>(s)] = true;
      live[static_cast<size_t>(s)] =
          std::max(live[static_cast<size_t>(s)], running + pp.ops[i].scratch_bytes);
    }
    if (!has_op[static_cast<size_t>(s)]) {
      live[static_cast<size_t>(s)] = i < n ? running + delta[i] - born[i] : 0;
    }
  }
  return live;
}

class Builder {
 public:
  Builder(const QGraph& g, const ClusterSpec& cluster, const CoordinatorSpec& coordinator,
          std::vector<LayerPlan> layers)
      : g_(g), participant_count_(cluster.device_count() + 1) {
    plan_.cluster = cluster;
    plan_.coordinator_spec = coordinator;
    plan_.layers = std::move(layers);
    set_tiled_boxes(g, plan_.layers);
    holdings_.assign(static_cast<size_t>(participant_count_),
                     std::vector<Holding>(g.tensors.size()));
  }

  Plan build() {
    collect_holdings();
    plan_transfers();
    make_participants();
    for (int p = 0; p < participant_count_; ++p) {
      make_buffers(p);
      make_ops(p);
      assign_lifetimes(p);
      make_weights(p);
      lay_out_arena(p, compute_in_place(p));
    }
    return std::move(plan_);
  }

 private:
  int coordinator() const { return participant_count_ - 1; }
  int last_step() const { return static_cast<int>(g_.layers.size()); }
  Holding& holding(int p, int t) {
    return holdings_[static_cast<size_t>(p)][static_cast<size_t>(t)];
  }
  const Box& layer_box(int layer, int p) const {
    return plan_.layers[static_cast<size_t>(layer)].boxes[static_cast<size_t>(p)];
  }

  void need(int p, int t, const Box& box, int step) {
    if (box.empty()) return;
    Holding& h = holding(p, t);
    h.needed = bounding_box(h.needed, box);
    h.first_need = std::min(h.first_need, step);
    h.last_need = std::max(h.last_need, step);
  }

  void collect_holdings() {
    Holding& input = holding(coordinator(), g_.input);
    input.produced = core::full_box(g_.tensors[static_cast<size_t>(g_.input)].shape);
    input.produce_step = 0;
    for (size_t i = 0; i < g_.layers.size(); ++i) {
      const QLayer& l = g_.layers[i];
      const int step = static_cast<int>(i);
      if (plan_.layers[i].strategy == Strategy::Tiled) continue;  // with its run's last layer
      const int first = run_first_layer(plan_.layers, step);
      const bool tiled = is_tiled_run_end(plan_.layers, step);
      if (tiled) {
        const std::string problem = run_problem(g_, first, step);
        if (!problem.empty()) throw Error("planner: a tiled run: " + problem, kExitFailure);
      }
      for (int p = 0; p < participant_count_; ++p) {
        const Box& box = layer_box(step, p);
        if (box.empty()) continue;
        Holding& out = holding(p, l.output);
        out.produced = box;
        out.produce_step = step;
        if (!tiled) {
          for (size_t k = 0; k < l.inputs.size(); ++k) {
            need(p, l.inputs[k], required_box(g_, l, static_cast<int>(k), box), step);
          }
          continue;
        }
        // A run reads the tensors produced before it wherever any tile reads them.
        const LayerPlan& lp = plan_.layers[i];
        for (const auto& [tensor, read] :
             run_inputs(g_, first,
                        run_schedule(g_, first, step, box, lp.tile_h, lp.tile_w, lp.stream_rows))) {
          need(p, tensor, read, step);
        }
      }
    }
    need(coordinator(), g_.output, core::full_box(g_.tensors[static_cast<size_t>(g_.output)].shape),
         last_step());
  }

  int producer_step(int t) const {
    if (t == g_.input) return 0;
    for (size_t i = 0; i < g_.layers.size(); ++i) {
      if (g_.layers[i].output == t) return static_cast<int>(i);
    }
    return 0;
  }

  void plan_transfers() {
    for (int t = 0; t < static_cast<int>(g_.tensors.size()); ++t) {
      for (int p = 0; p < participant_count_; ++p) {
        Holding& h = holding(p, t);
        if (h.needed.empty()) continue;
        std::vector<Box> missing =
            h.produced.empty() ? std::vector<Box>{h.needed} : subtract(h.needed, h.produced);
        h.receive_step = p == coordinator() && t != g_.input
                             ? std::min(h.first_need, producer_step(t) + 1)
                             : h.first_need;
        for (int q = 0; q < participant_count_ && !missing.empty(); ++q) {
          Holding& src = holding(q, t);
          if (q == p || src.produced.empty()) continue;
          for (const Box& m : missing) {
            const Box part = core::intersect(m, src.produced);
            if (part.empty()) continue;
            transfers_.push_back(Transfer{h.receive_step, t, q, p, part});
            src.last_read = std::max(src.last_read, h.receive_step);
          }
          missing = subtract_all(missing, src.produced);
        }
        if (!missing.empty()) {
          throw Error("planner: no participant produces part of tensor '" +
                          g_.tensors[static_cast<size_t>(t)].name + "' that " +
                          participant_name(p) + " reads",
                      kExitFailure);
        }
      }
    }
    std::sort(transfers_.begin(), transfers_.end(),
              [](const Transfer& a, const Transfer& b) { return a.key() < b.key(); });
  }

  std::string participant_name(int p) const {
    return p == coordinator()
               ? std::string("the coordinator")
               : "device '" + plan_.cluster.devices[static_cast<size_t>(p)].name + "'";
  }

  void make_participants() {
    for (const DeviceSpec& d : plan_.cluster.devices) {
      ParticipantPlan pp;
      pp.name = d.name;
      pp.ram_bytes = d.ram_bytes;
      pp.runtime_bytes = core::kDeviceRuntimeRamBytes;
      pp.flash_bytes = d.flash_bytes;
      plan_.participants.push_back(pp);
    }
    ParticipantPlan c;
    c.name = "coordinator";
    c.coordinator = true;
    plan_.participants.push_back(c);
  }

  ParticipantPlan& participant(int p) { return plan_.participants[static_cast<size_t>(p)]; }

  // Lifetimes follow from the ops (assign_lifetimes).
  int add_buffer(int p, int t, const Box& box) {
    auto& buffers = participant(p).buffers;
    buffers.push_back(PlanBuffer{t, box, 0, 0, 0});
    return static_cast<int>(buffers.size()) - 1;
  }

  void make_buffers(int p) {
    for (int t = 0; t < static_cast<int>(g_.tensors.size()); ++t) {
      Holding& h = holding(p, t);
      const bool produces = !h.produced.empty();
      const bool reads = !h.needed.empty();
      if (!produces && !reads) continue;
      if (produces && reads) {
        const Box both = bounding_box(h.produced, h.needed);
        // One buffer wastes its unproduced part while the producing layer
        // runs; two buffers hold the produced part twice while it is copied.
        // Take whichever holds fewer extra bytes.
        // A shared buffer must be exactly the union, so that every byte of
        // it is written (the measured high water then equals the plan).
        const bool union_is_box =
            both.volume() == h.produced.volume() + h.needed.volume() -
                                 core::intersect(h.produced, h.needed).volume();
        const bool one_buffer =
            core::contains(h.produced, h.needed) ||
            (union_is_box && both.volume() - h.produced.volume() <= h.produced.volume());
        if (one_buffer) {
          h.produce_buffer = h.need_buffer = add_buffer(p, t, both);
          continue;
        }
        // Disjoint enough: the produced box is copied into the read buffer.
        h.produce_buffer = add_buffer(p, t, h.produced);
        h.need_buffer = add_buffer(p, t, h.needed);
      } else if (produces) {
        h.produce_buffer = add_buffer(p, t, h.produced);
      } else {
        h.need_buffer = add_buffer(p, t, h.needed);
      }
    }
  }

  void make_ops(int p) {
    ParticipantPlan& pp = participant(p);
    auto& ops = pp.ops;
    if (p == coordinator()) {
      PlanOp load;
      load.kind = OpKind::LoadInput;
      load.tensor = g_.input;
      load.box = holding(p, g_.input).produced;
      load.dst_buffer = holding(p, g_.input).produce_buffer;
      ops.push_back(load);
    }
    size_t next = 0;
    for (int step = 0; step <= last_step(); ++step) {
      // Transfers are sorted by step first.
      const size_t end = static_cast<size_t>(
          std::find_if(transfers_.begin() + static_cast<std::ptrdiff_t>(next), transfers_.end(),
                       [&](const Transfer& x) { return x.step != step; }) -
          transfers_.begin());
      for (size_t i = next; i < end; ++i) {
        const Transfer& x = transfers_[i];
        if (x.src != p) continue;
        PlanOp send;
        send.kind = OpKind::Send;
        send.step = step;
        send.peer = x.dst;
        send.tensor = x.tensor;
        send.box = x.box;
        send.src_buffer = holding(p, x.tensor).produce_buffer;
        ops.push_back(send);
        pp.estimate.bytes_sent += x.box.volume();
        pp.estimate.messages_sent += 1;
      }
      add_copies(p, step);
      for (size_t i = next; i < end; ++i) {
        const Transfer& x = transfers_[i];
        if (x.dst != p) continue;
        PlanOp receive;
        receive.kind = OpKind::Receive;
        receive.step = step;
        receive.peer = x.src;
        receive.tensor = x.tensor;
        receive.box = x.box;
        receive.dst_buffer = holding(p, x.tensor).need_buffer;
        ops.push_back(receive);
        pp.estimate.bytes_received += x.box.volume();
      }
      next = end;
      if (step < last_step()) add_compute(p, step);
    }
    if (p == coordinator()) {
      PlanOp store;
      store.kind = OpKind::StoreOutput;
      store.step = last_step();
      store.tensor = g_.output;
      store.box = core::full_box(g_.tensors[static_cast<size_t>(g_.output)].shape);
      store.src_buffer = holding(p, g_.output).need_buffer;
      ops.push_back(store);
    }
  }

  void add_copies(int p, int step) {
    for (int t = 0; t < static_cast<int>(g_.tensors.size()); ++t) {
      const Holding& h = holding(p, t);
      if (h.produce_buffer < 0 || h.need_buffer < 0 || h.produce_buffer == h.need_buffer) continue;
      const int read_start = std::min(h.receive_step, h.first_need);
      const Box part = core::intersect(h.produced, h.needed);
      if (read_start != step || part.empty()) continue;
      push_copy(p, step, t, part, h.produce_buffer, h.need_buffer);
    }
  }

  void add_compute(int p, int step) {
    const Box& box = layer_box(step, p);
    if (box.empty() || plan_.layers[static_cast<size_t>(step)].strategy == Strategy::Tiled) return;
    if (is_tiled_run_end(plan_.layers, step)) {
      add_run_computes(p, step);
      return;
    }
    const QLayer& l = g_.layers[static_cast<size_t>(step)];
    std::vector<int> inputs;
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const bool reads = !required_box(g_, l, static_cast<int>(k), box).empty();
      inputs.push_back(reads ? holding(p, l.inputs[k]).need_buffer : -1);
    }
    push_compute(p, step, step, box, holding(p, l.output).produce_buffer, std::move(inputs));
  }

  // The run ending at `last`, tile by tile: each layer's tile into a buffer
  // of its own (the last layer's into the band it produces); with rows
  // streamed, a buffer first takes the rows it shares with the layer's
  // previous buffer by a Copy.
  void add_run_computes(int p, int last) {
    const int first = run_first_layer(plan_.layers, last);
    const LayerPlan& lp = plan_.layers[static_cast<size_t>(last)];
    std::vector<int> current(static_cast<size_t>(last - first + 1), -1);
    for (const auto& tile :
         run_schedule(g_, first, last, layer_box(last, p), lp.tile_h, lp.tile_w, lp.stream_rows)) {
      for (const TileLayer& t : tile) {
        const QLayer& l = g_.layers[static_cast<size_t>(t.layer)];
        int& buffer = current[static_cast<size_t>(t.layer - first)];
        const int dst = t.layer == last ? holding(p, l.output).produce_buffer
                                        : add_buffer(p, l.output, t.window);
        if (!t.copy.empty()) push_copy(p, last, l.output, t.copy, buffer, dst);
        buffer = dst;
        if (t.compute.empty()) continue;
        std::vector<int> inputs;
        for (size_t k = 0; k < l.inputs.size(); ++k) {
          const int tensor = l.inputs[k];
          const int m = run_producer(g_, first, t.layer, tensor);
          const bool reads = !required_box(g_, l, static_cast<int>(k), t.compute).empty();
          inputs.push_back(!reads   ? -1
                           : m >= 0 ? current[static_cast<size_t>(m - first)]
                                    : holding(p, tensor).need_buffer);
        }
        push_compute(p, last, t.layer, t.compute, dst, std::move(inputs));
      }
    }
  }

  void push_copy(int p, int step, int tensor, const Box& box, int src, int dst) {
    PlanOp copy;
    copy.kind = OpKind::Copy;
    copy.step = step;
    copy.tensor = tensor;
    copy.box = box;
    copy.src_buffer = src;
    copy.dst_buffer = dst;
    participant(p).ops.push_back(copy);
  }

  void push_compute(int p, int step, int layer, const Box& box, int dst, std::vector<int> inputs) {
    const QLayer& l = g_.layers[static_cast<size_t>(layer)];
    PlanOp compute;
    compute.kind = OpKind::Compute;
    compute.step = step;
    compute.layer = layer;
    compute.tensor = l.output;
    compute.box = box;
    compute.dst_buffer = dst;
    compute.inputs = std::move(inputs);
    compute.scratch_bytes = box_scratch_bytes(l, box);
    ParticipantPlan& pp = participant(p);
    pp.ops.push_back(compute);
    pp.estimate.macs += box_macs(l, box);
  }

  // A buffer lives from the first to the last op using it; a Receive's
  // destination from the first op of its step (credit is granted on
  // entering the step and chunks are written as they arrive).
  void assign_lifetimes(int p) {
    ParticipantPlan& pp = participant(p);
    std::vector<int> first(pp.buffers.size(), INT_MAX);
    std::vector<int> last(pp.buffers.size(), -1);
    int step_start = 0;
    for (int i = 0; i < static_cast<int>(pp.ops.size()); ++i) {
      const PlanOp& o = pp.ops[static_cast<size_t>(i)];
      if (i > 0 && o.step != pp.ops[static_cast<size_t>(i) - 1].step) step_start = i;
      auto use = [&](int b, int from) {
        if (b < 0) return;
        first[static_cast<size_t>(b)] = std::min(first[static_cast<size_t>(b)], from);
        last[static_cast<size_t>(b)] = std::max(last[static_cast<size_t>(b)], i);
      };
      use(o.src_buffer, i);
      use(o.dst_buffer, o.kind == OpKind::Receive ? step_start : i);
      for (int b : o.inputs) use(b, i);
    }
    for (size_t b = 0; b < pp.buffers.size(); ++b) {
      if (last[b] < 0) {
        throw Error("planner: a buffer of " + participant_name(p) + " is used by no op",
                    kExitFailure);
      }
      pp.buffers[b].first_op = first[b];
      pp.buffers[b].last_op = last[b];
    }
  }

  void make_weights(int p) {
    ParticipantPlan& pp = participant(p);
    for (size_t i = 0; i < g_.layers.size(); ++i) {
      const QLayer& l = g_.layers[i];
      const Box& box = layer_box(static_cast<int>(i), p);
      if (box.empty() || !has_channel_constants(l)) continue;
      WeightSlice w{static_cast<int>(i), box.c0, box.c1, slice_constant_bytes(l, box.c0, box.c1)};
      pp.weights.push_back(w);
      pp.weight_bytes += w.bytes;
    }
  }

  // The Computes of layers planned in place whose output can overwrite their
  // input: input 0's buffer dies at the op, the output buffer is born there
  // and is what the op computes, with the same channels and no more bytes.
  // Such an op gets the in-place kernel's scratch; returns for each buffer
  // the buffer whose bytes it takes (itself if none).
  std::vector<int> compute_in_place(int p) {
    ParticipantPlan& pp = participant(p);
    std::vector<int> home(pp.buffers.size());
    for (size_t b = 0; b < home.size(); ++b) home[b] = static_cast<int>(b);
    for (size_t i = 0; i < pp.ops.size(); ++i) {
      PlanOp& o = pp.ops[i];
      if (o.kind != OpKind::Compute || !plan_.layers[static_cast<size_t>(o.layer)].in_place ||
          o.inputs.empty() || o.inputs[0] < 0) {
        continue;
      }
      const QLayer& l = g_.layers[static_cast<size_t>(o.layer)];
      const int32_t need = kernels::in_place_scratch_bytes(l.record(), l.view(), o.box);
      const PlanBuffer& in = pp.buffers[static_cast<size_t>(o.inputs[0])];
      const PlanBuffer& out = pp.buffers[static_cast<size_t>(o.dst_buffer)];
      const int at = static_cast<int>(i);
      if (need <= 0 || in.last_op != at || out.first_op != at || !(o.box == out.box) ||
          in.box.c0 != out.box.c0 || in.box.c1 != out.box.c1 || out.bytes() > in.bytes()) {
        continue;
      }
      o.scratch_bytes = need;
      home[static_cast<size_t>(o.dst_buffer)] = home[static_cast<size_t>(o.inputs[0])];
    }
    return home;
  }

  // Buffers and every Compute's kernel scratch (live for its op, as in
  // TFLM's per-op scratch requests) share one arena through the planner; a
  // buffer computed in place takes its input's bytes (`home`).
  void lay_out_arena(int p, const std::vector<int>& home) {
    ParticipantPlan& pp = participant(p);
    std::vector<quant::BufferRequest> requests;
    for (const PlanBuffer& b : pp.buffers) {
      requests.push_back(quant::BufferRequest{g_.tensors[static_cast<size_t>(b.tensor)].name,
                                              b.bytes(), b.first_op, b.last_op});
    }
    // One request per home, live while any buffer in it is (in place, the
    // later buffers are never larger).
    for (size_t b = 0; b < pp.buffers.size(); ++b) {
      const size_t h = static_cast<size_t>(home[b]);
      if (h == b) continue;
      requests[h].last_use = std::max(requests[h].last_use, requests[b].last_use);
      requests[b].bytes = 0;
    }
    std::vector<PlanOp*> scratch_users;
    for (size_t i = 0; i < pp.ops.size(); ++i) {
      PlanOp& o = pp.ops[i];
      if (o.kind != OpKind::Compute || o.scratch_bytes == 0) continue;
      requests.push_back(
          quant::BufferRequest{"scratch of " + g_.layers[static_cast<size_t>(o.layer)].name,
                               o.scratch_bytes, static_cast<int>(i), static_cast<int>(i)});
      scratch_users.push_back(&o);
    }
    const quant::BufferLayout layout = quant::GreedyMemoryPlanner{}.plan(requests);
    for (size_t i = 0; i < pp.buffers.size(); ++i) {
      pp.buffers[i].offset = layout.offsets[static_cast<size_t>(home[i])];
    }
    for (size_t i = 0; i < scratch_users.size(); ++i) {
      scratch_users[i]->scratch_offset = layout.offsets[pp.buffers.size() + i];
    }
    pp.arena_bytes = layout.arena_bytes;
    pp.estimate.live_bytes = live_bytes_per_step(pp, last_step() + 1, home);
  }

  const QGraph& g_;
  int participant_count_;
  Plan plan_;
  std::vector<std::vector<Holding>> holdings_;
  std::vector<Transfer> transfers_;
};

}  // namespace

Plan build_plan(const QGraph& graph, const ClusterSpec& cluster, const CoordinatorSpec& coordinator,
                std::vector<LayerPlan> layers) {
  return Builder(graph, cluster, coordinator, std::move(layers)).build();
}

}  // namespace mcusplit::plan
