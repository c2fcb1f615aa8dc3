// Plan checker passes 1 and 2: the plan's shape (participants, layer plans,
// buffers, op indices, step order, lifetimes) and that every output element
// of every layer is computed by the participants the layer plan names.
#include <fmt/format.h>

#include <algorithm>

#include "plan/checker_context.h"
#include "plan/checker_geometry.h"

namespace mcusplit::plan::checker {
namespace {

using core::Box;

// Order of op kinds within a step (plan.h): the input is loaded before
// anything reads it and the output stored after everything else.
int kind_rank(OpKind k) {
  switch (k) {
    case OpKind::LoadInput:
      return 0;
    case OpKind::Send:
      return 1;
    case OpKind::Copy:
      return 2;
    case OpKind::Receive:
      return 3;
    case OpKind::Compute:
      return 4;
    case OpKind::StoreOutput:
      return 5;
  }
  return 6;
}

class StructureChecker {
 public:
  StructureChecker(Context& ctx, std::vector<ParticipantFacts>& facts) : ctx_(ctx), facts_(facts) {}

  void run() {
    check_participants();
    check_layer_plans();
    facts_.assign(ctx_.idx(ctx_.participant_count()), ParticipantFacts{});
    for (int p = 0; p < ctx_.participant_count(); ++p) {
      check_buffers(p);
      check_ops(p);
    }
  }

 private:
  int steps_last() const { return ctx_.layer_count(); }  // step L: output collection

  // The index of the first of participant p's ops in op's step.
  int step_start(int p, int op) const {
    const auto& ops = ctx_.participant(p).ops;
    int i = op;
    while (i > 0 && ops[ctx_.idx(i - 1)].step == ops[ctx_.idx(op)].step) --i;
    return i;
  }

  // The step a layer's computes run at: its own, or for a layer inside a
  // tiled run the run's last layer's (the next one that is not Tiled).
  int compute_step(int layer) const {
    const auto& layers = ctx_.plan().layers;
    int l = layer;
    while (ctx_.idx(l) < layers.size() && layers[ctx_.idx(l)].strategy == Strategy::Tiled) ++l;
    return l;
  }

  void check_participants() {
    const Plan& plan = ctx_.plan();
    const int n = plan.device_count();
    if (ctx_.participant_count() != n + 1) {
      ctx_.add(fmt::format(
          "the plan has {} participants for {} devices: expected the devices then the coordinator",
          ctx_.participant_count(), n));
    }
    for (int p = 0; p < ctx_.participant_count(); ++p) {
      const ParticipantPlan& pp = ctx_.participant(p);
      const bool last = p == ctx_.participant_count() - 1;
      if (pp.coordinator != last) {
        ctx_.add(fmt::format("{}: the coordinator flag must be set on the last participant only",
                             ctx_.who(p)));
      }
      if (p >= n) continue;
      const DeviceSpec& d = plan.cluster.devices[ctx_.idx(p)];
      if (pp.name != d.name) {
        ctx_.add(fmt::format("{}: named differently from cluster device #{} '{}'", ctx_.who(p), p,
                             d.name));
      }
      if (pp.ram_bytes != d.ram_bytes || pp.flash_bytes != d.flash_bytes) {
        ctx_.add(fmt::format(
            "{}: budgets (RAM {}, flash {}) differ from the cluster's device (RAM {}, flash {})",
            ctx_.who(p), pp.ram_bytes, pp.flash_bytes, d.ram_bytes, d.flash_bytes));
      }
    }
  }

  void check_layer_plans() {
    const Plan& plan = ctx_.plan();
    if (plan.layers.size() != ctx_.graph().layers.size()) {
      ctx_.add(fmt::format("the plan has {} layer plans for a graph of {} layers",
                           plan.layers.size(), ctx_.graph().layers.size()));
    }
    const int layers = std::min(static_cast<int>(plan.layers.size()), ctx_.layer_count());
    for (int l = 0; l < layers; ++l) {
      const quant::QLayer& layer = ctx_.layer(l);
      const std::string problem = layer_geometry_problem(ctx_.graph(), layer);
      if (!problem.empty()) {
        ctx_.add(fmt::format("{} in the graph: {}", ctx_.layer_text(l), problem));
        continue;
      }
      const LayerPlan& lp = plan.layers[ctx_.idx(l)];
      if (static_cast<int>(lp.boxes.size()) != ctx_.participant_count()) {
        ctx_.add(fmt::format("{}: the layer plan has {} boxes for {} participants",
                             ctx_.layer_text(l), lp.boxes.size(), ctx_.participant_count()));
        continue;
      }
      for (int p = 0; p < ctx_.participant_count(); ++p) {
        const Box& b = lp.boxes[ctx_.idx(p)];
        if (!b.empty() && !core::inside(ctx_.shape(layer.output), b)) {
          ctx_.add(fmt::format("{}: the layer plan's box {} for {} lies outside output {}",
                               ctx_.layer_text(l), box_text(b), ctx_.who(p),
                               ctx_.tensor_text(layer.output)));
        }
      }
    }
  }

  void check_buffers(int p) {
    const ParticipantPlan& pp = ctx_.participant(p);
    ParticipantFacts& f = facts_[ctx_.idx(p)];
    f.buffer_ok.assign(pp.buffers.size(), false);
    for (size_t b = 0; b < pp.buffers.size(); ++b) {
      const PlanBuffer& buf = pp.buffers[b];
      const std::string what =
          fmt::format("{}: {}", ctx_.who(p), ctx_.buffer_text(p, static_cast<int>(b)));
      bool ok = true;
      if (!ctx_.valid_tensor(buf.tensor)) {
        ctx_.add(what + ": tensor index out of range");
        ok = false;
      } else if (buf.box.empty() || !core::inside(ctx_.shape(buf.tensor), buf.box)) {
        ctx_.add(what + ": the box is empty or lies outside the tensor");
        ok = false;
      }
      if (buf.first_op < 0 || buf.first_op > buf.last_op ||
          ctx_.idx(buf.last_op) >= pp.ops.size()) {
        ctx_.add(fmt::format("{}: the lifetime must satisfy 0 <= first op <= last op < {}", what,
                             pp.ops.size()));
      }
      if (buf.offset < 0 || (ok && buf.offset + buf.bytes() > pp.arena_bytes)) {
        ctx_.add(fmt::format("{}: bytes [{}, {}) lie outside the arena [0, {})", what, buf.offset,
                             buf.offset + buf.bytes(), pp.arena_bytes));
        ok = false;
      }
      f.buffer_ok[b] = ok;
    }
  }

  bool valid_buffer(int p, int b) const {
    return b >= 0 && ctx_.idx(b) < ctx_.participant(p).buffers.size();
  }

  // The op's buffer `b` exists, is sound, holds `tensor` and covers `box`;
  // reports otherwise. `role` names the operand ("source", "destination", ...).
  bool check_operand(int p, int op, int b, int tensor, const Box& box, const char* role) {
    if (!valid_buffer(p, b)) {
      ctx_.add(fmt::format("{}: {} buffer index {} out of range", ctx_.where(p, op), role, b));
      return false;
    }
    const PlanBuffer& buf = ctx_.participant(p).buffers[ctx_.idx(b)];
    const PlanOp& o = ctx_.participant(p).ops[ctx_.idx(op)];
    // A Receive's chunks may land from the moment its step is entered.
    const int from = o.kind == OpKind::Receive ? step_start(p, op) : op;
    if (from < buf.first_op || op > buf.last_op) {
      ctx_.add(fmt::format("{}: {} {} is used outside its lifetime{}", ctx_.where(p, op), role,
                           ctx_.buffer_text(p, b),
                           o.kind == OpKind::Receive
                               ? fmt::format(" (from op {}, where step {} begins)", from, o.step)
                               : ""));
    }
    if (!facts_[ctx_.idx(p)].buffer_ok[ctx_.idx(b)]) return false;  // reported with the buffer
    if (buf.tensor != tensor) {
      ctx_.add(fmt::format("{}: {} {} does not hold {}", ctx_.where(p, op), role,
                           ctx_.buffer_text(p, b), ctx_.tensor_text(tensor)));
      return false;
    }
    if (!core::contains(buf.box, box)) {
      ctx_.add(fmt::format("{}: {} {} does not cover {} {}", ctx_.where(p, op), role,
                           ctx_.buffer_text(p, b), ctx_.tensor_text(tensor), box_text(box)));
      return false;
    }
    return true;
  }

  // `box` of `tensor` is a non-empty region inside the tensor.
  bool check_region(int p, int op, int tensor, const Box& box) {
    if (!ctx_.valid_tensor(tensor)) {
      ctx_.add(fmt::format("{}: tensor index {} out of range", ctx_.where(p, op), tensor));
      return false;
    }
    if (box.empty() || !core::inside(ctx_.shape(tensor), box)) {
      ctx_.add(fmt::format("{}: box {} is empty or outside {}", ctx_.where(p, op), box_text(box),
                           ctx_.tensor_text(tensor)));
      return false;
    }
    return true;
  }

  bool check_peer(int p, int op, int peer) {
    if (ctx_.valid_participant(peer) && peer != p) return true;
    ctx_.add(fmt::format("{}: peer {} is not another participant", ctx_.where(p, op), peer));
    return false;
  }

  bool check_whole(int p, int op, int tensor, const Box& box, int expected, const char* what) {
    if (tensor != expected || !ctx_.valid_tensor(expected) ||
        box != core::full_box(ctx_.shape(expected))) {
      ctx_.add(fmt::format("{}: must move the whole graph {} {}, not {} {}", ctx_.where(p, op),
                           what, ctx_.tensor_text(expected), ctx_.tensor_text(tensor),
                           box_text(box)));
      return false;
    }
    return true;
  }

  bool check_compute(int p, int op) {
    const PlanOp& o = ctx_.participant(p).ops[ctx_.idx(op)];
    if (!ctx_.valid_layer(o.layer)) {
      ctx_.add(fmt::format("{}: layer index {} out of range", ctx_.where(p, op), o.layer));
      return false;
    }
    const quant::QLayer& layer = ctx_.layer(o.layer);
    if (o.step != compute_step(o.layer)) {
      ctx_.add(fmt::format("{}: computes {} at step {}, not its step {}", ctx_.where(p, op),
                           ctx_.layer_text(o.layer), o.step, compute_step(o.layer)));
    }
    if (!layer_geometry_problem(ctx_.graph(), layer).empty()) return false;  // reported
    if (o.tensor >= 0 && o.tensor != layer.output) {
      ctx_.add(fmt::format("{}: names {}, but {} writes {}", ctx_.where(p, op),
                           ctx_.tensor_text(o.tensor), ctx_.layer_text(o.layer),
                           ctx_.tensor_text(layer.output)));
    }
    bool ok = check_region(p, op, layer.output, o.box);
    if (ok) ok = check_operand(p, op, o.dst_buffer, layer.output, o.box, "output");
    // The elements each input must supply, by the checker's own receptive
    // field; their values are checked when the dataflow pass runs the op. An
    // input that supplies nothing (a concat input outside the box) may have
    // no buffer (-1).
    std::vector<bool>& usable = facts_[ctx_.idx(p)].inputs_ok[ctx_.idx(op)];
    usable.assign(layer.inputs.size(), false);
    if (o.inputs.size() != layer.inputs.size()) {
      ctx_.add(fmt::format("{}: {} input buffers for the {} inputs of {}", ctx_.where(p, op),
                           o.inputs.size(), layer.inputs.size(), ctx_.layer_text(o.layer)));
      return ok;
    }
    if (!ok) return false;
    const std::vector<InputNeed> needs = needed_inputs(ctx_.graph(), layer, o.box);
    for (size_t i = 0; i < o.inputs.size(); ++i) {
      const int t = layer.inputs[i];
      const Box need = need_bounds(needs[i], ctx_.shape(t), ctx_.shape(layer.output));
      const std::string role = fmt::format("input {}", i);
      if (o.inputs[i] == -1) {
        if (!need.empty()) {
          ctx_.add(fmt::format("{}: {} of {} needs {} {}, but has no buffer", ctx_.where(p, op),
                               role, ctx_.layer_text(o.layer), ctx_.tensor_text(t),
                               box_text(need)));
        }
        continue;
      }
      if (!check_operand(p, op, o.inputs[i], t, Box{}, role.c_str())) continue;
      usable[i] = true;
      const PlanBuffer& buf = ctx_.participant(p).buffers[ctx_.idx(o.inputs[i])];
      if (!core::contains(buf.box, need)) {
        ctx_.add(fmt::format("{}: {} of {} needs {} {}, which its {} does not cover",
                             ctx_.where(p, op), role, ctx_.layer_text(o.layer), ctx_.tensor_text(t),
                             box_text(need), ctx_.buffer_text(p, o.inputs[i])));
      }
    }
    return true;  // the output can be written whatever the inputs
  }

  bool check_op(int p, int op) {
    const ParticipantPlan& pp = ctx_.participant(p);
    const PlanOp& o = pp.ops[ctx_.idx(op)];
    const quant::QGraph& g = ctx_.graph();
    switch (o.kind) {
      case OpKind::LoadInput:
        if (!pp.coordinator || o.step != 0) {
          ctx_.add(fmt::format("{}: only the coordinator loads the input, at step 0",
                               ctx_.where(p, op)));
        }
        return check_whole(p, op, o.tensor, o.box, g.input, "input") &&
               check_operand(p, op, o.dst_buffer, o.tensor, o.box, "destination");
      case OpKind::StoreOutput:
        if (!pp.coordinator || o.step != steps_last()) {
          ctx_.add(fmt::format("{}: only the coordinator stores the output, at step {}",
                               ctx_.where(p, op), steps_last()));
        }
        return check_whole(p, op, o.tensor, o.box, g.output, "output") &&
               check_operand(p, op, o.src_buffer, o.tensor, o.box, "source");
      case OpKind::Send: {
        const bool peer = check_peer(p, op, o.peer);
        return check_region(p, op, o.tensor, o.box) &&
               check_operand(p, op, o.src_buffer, o.tensor, o.box, "source") && peer;
      }
      case OpKind::Receive: {
        const bool peer = check_peer(p, op, o.peer);
        return check_region(p, op, o.tensor, o.box) &&
               check_operand(p, op, o.dst_buffer, o.tensor, o.box, "destination") && peer;
      }
      case OpKind::Copy: {
        if (!check_region(p, op, o.tensor, o.box)) return false;
        const bool src = check_operand(p, op, o.src_buffer, o.tensor, o.box, "source");
        const bool dst = check_operand(p, op, o.dst_buffer, o.tensor, o.box, "destination");
        return src && dst;
      }
      case OpKind::Compute:
        return check_compute(p, op);
    }
    ctx_.add(fmt::format("{} op {}: unknown kind", ctx_.who(p), op));
    return false;
  }

  void check_ops(int p) {
    const ParticipantPlan& pp = ctx_.participant(p);
    ParticipantFacts& f = facts_[ctx_.idx(p)];
    f.op_ok.assign(pp.ops.size(), false);
    f.inputs_ok.assign(pp.ops.size(), {});
    int loads = 0;
    int stores = 0;
    bool computed_in_step = false;  // a Compute came earlier in this op's step
    int prev_rank = 0;              // the previous op's kind_rank
    for (size_t i = 0; i < pp.ops.size(); ++i) {
      const int op = static_cast<int>(i);
      const PlanOp& o = pp.ops[i];
      if (o.step < 0 || o.step > steps_last()) {
        ctx_.add(fmt::format("{}: step outside 0..{}", ctx_.where(p, op), steps_last()));
      }
      const bool same_step = i > 0 && pp.ops[i - 1].step == o.step;
      if (!same_step) computed_in_step = false;
      // A Copy after a Compute of its step (a streamed run's rows) ranks as one.
      const bool among_computes = o.kind == OpKind::Copy && computed_in_step;
      const int rank = kind_rank(among_computes ? OpKind::Compute : o.kind);
      if (i > 0) {
        const PlanOp& prev = pp.ops[i - 1];
        if (o.step < prev.step) {
          ctx_.add(fmt::format("{}: follows op {} of the later step {}", ctx_.where(p, op), i - 1,
                               prev.step));
        } else if (same_step && rank < prev_rank) {
          ctx_.add(fmt::format(
              "{}: follows op {} ({}) of the same step; a step runs load, sends, copies, "
              "receives, computes (and a streamed run's copies), store in that order",
              ctx_.where(p, op), i - 1, op_kind_name(prev.kind)));
        }
      }
      prev_rank = rank;
      computed_in_step = computed_in_step || o.kind == OpKind::Compute;
      loads += o.kind == OpKind::LoadInput ? 1 : 0;
      stores += o.kind == OpKind::StoreOutput ? 1 : 0;
      f.op_ok[i] = check_op(p, op);
    }
    if (pp.coordinator && (loads != 1 || stores != 1)) {
      ctx_.add(fmt::format("{}: has {} {} and {} {} ops, expected one of each", ctx_.who(p), loads,
                           op_kind_name(OpKind::LoadInput), stores,
                           op_kind_name(OpKind::StoreOutput)));
    }
  }

  Context& ctx_;
  std::vector<ParticipantFacts>& facts_;
};

std::string element_text(const core::TensorShape3& s, int64_t index) {
  const int64_t c = index % s.c;
  const int64_t x = (index / s.c) % s.w;
  const int64_t y = index / (int64_t{s.c} * s.w);
  return fmt::format("(c {}, y {}, x {})", c, y, x);
}

// A layer's last layer of a tiled run computes its box in several disjoint tiles.
bool tiled_run_end(const Context& ctx, int l) {
  const auto& layers = ctx.plan().layers;
  const LayerPlan& lp = layers[ctx.idx(l)];
  if (lp.strategy == Strategy::Tiled) return false;
  return lp.tile_h > 0 || lp.tile_w > 0 ||
         (l > 0 && layers[ctx.idx(l - 1)].strategy == Strategy::Tiled);
}

void check_layer_coverage(Context& ctx, int l) {
  const quant::QLayer& layer = ctx.layer(l);
  const LayerPlan& lp = ctx.plan().layers[ctx.idx(l)];
  const bool boxes_ok = static_cast<int>(lp.boxes.size()) == ctx.participant_count();
  const core::TensorShape3 s = ctx.shape(layer.output);
  std::vector<char> covered(static_cast<size_t>(s.volume()), 0);
  const bool inside_run = lp.strategy == Strategy::Tiled;
  const bool in_tiles = tiled_run_end(ctx, l);

  for (int p = 0; p < ctx.participant_count(); ++p) {
    const ParticipantPlan& pp = ctx.participant(p);
    const Box planned = boxes_ok ? lp.boxes[ctx.idx(p)] : Box{};
    int computes = 0;
    int64_t volume = 0;
    Box bounds;
    std::vector<Box> seen;
    for (size_t i = 0; i < pp.ops.size(); ++i) {
      const PlanOp& o = pp.ops[i];
      if (o.kind != OpKind::Compute || o.layer != l) continue;
      ++computes;
      const std::string where = ctx.where(p, static_cast<int>(i));
      if (boxes_ok && !core::contains(planned, o.box)) {
        ctx.add(fmt::format("{}: computes box {} of {}, outside the box {} the layer plan gives it",
                            where, box_text(o.box), ctx.layer_text(l), box_text(planned)));
      }
      if (o.box.empty() || !core::inside(s, o.box)) continue;  // reported by the structure pass
      // Tiles of a run's last layer (and of any layer outside a run) divide
      // the box without overlap; a Tiled layer's tiles overlap in their halos.
      if (!inside_run) {
        for (const Box& b : seen) {
          if (!core::intersect(b, o.box).empty()) {
            ctx.add(fmt::format("{}: computes box {} of {}, which an earlier op already computed",
                                where, box_text(o.box), ctx.layer_text(l)));
            break;
          }
        }
        seen.push_back(o.box);
      }
      volume += o.box.volume();
      bounds = bounds.empty() ? o.box
                              : Box{std::min(bounds.c0, o.box.c0), std::max(bounds.c1, o.box.c1),
                                    std::min(bounds.y0, o.box.y0), std::max(bounds.y1, o.box.y1),
                                    std::min(bounds.x0, o.box.x0), std::max(bounds.x1, o.box.x1)};
      for (int32_t y = o.box.y0; y < o.box.y1; ++y) {
        for (int32_t x = o.box.x0; x < o.box.x1; ++x) {
          for (int32_t c = o.box.c0; c < o.box.c1; ++c) {
            covered[static_cast<size_t>((int64_t{y} * s.w + x) * s.c + c)] = 1;
          }
        }
      }
    }
    if (!boxes_ok) continue;
    if (planned.empty()) {
      if (computes != 0) {
        ctx.add(fmt::format("{}: computes {} although the layer plan gives it no box", ctx.who(p),
                            ctx.layer_text(l)));
      }
      continue;
    }
    const bool whole = inside_run ? bounds == planned : volume == planned.volume();
    if (computes == 0 || !whole) {
      ctx.add(fmt::format(
          "{}: its {} Compute ops of {} cover {} elements within {}, not its box {}", ctx.who(p),
          computes, ctx.layer_text(l), volume, box_text(bounds), box_text(planned)));
    } else if (!inside_run && !in_tiles && computes != 1) {
      ctx.add(fmt::format("{}: has {} Compute ops for {}, expected one for its box {}", ctx.who(p),
                          computes, ctx.layer_text(l), box_text(planned)));
    }
  }
  // What a Tiled layer computes is read inside its run only: it need not
  // cover its output, and the dataflow pass checks every read.
  if (inside_run) return;

  const auto missing = std::count(covered.begin(), covered.end(), 0);
  if (missing > 0) {
    const auto first = std::find(covered.begin(), covered.end(), 0) - covered.begin();
    ctx.add(fmt::format("{}: {} of {} elements of {} are computed by no participant, e.g. {}",
                        ctx.layer_text(l), missing, covered.size(), ctx.tensor_text(layer.output),
                        element_text(s, first)));
  }
  if (!boxes_ok) return;

  // Tiling strategies divide the output without overlap and in their own shape.
  int non_empty = 0;
  for (int p = 0; p < ctx.participant_count(); ++p) {
    const Box& b = lp.boxes[ctx.idx(p)];
    if (b.empty()) continue;
    ++non_empty;
    const bool full_c = b.c0 == 0 && b.c1 == s.c;
    const bool full_rows = b.y0 == 0 && b.y1 == s.h;
    const bool full_cols = b.x0 == 0 && b.x1 == s.w;
    // Spatial and fused boxes hold all channels of a band or a tile: the
    // planner also splits columns when rows run out. Channel boxes hold all
    // pixels of their channels, or part of a band of channels that slow
    // devices share by pixels (partition.h); coverage and overlap are
    // checked below.
    const auto shares_band = [&] {
      for (int q = 0; q < ctx.participant_count(); ++q) {
        const Box& other = lp.boxes[ctx.idx(q)];
        if (q != p && !other.empty() && other.c0 == b.c0 && other.c1 == b.c1) return true;
      }
      return false;
    };
    const bool shaped = lp.strategy == Strategy::Channel ? (full_rows && full_cols) || shares_band()
                        : lp.strategy == Strategy::Single ? full_c && full_rows && full_cols
                                                          : full_c;
    if (!shaped) {
      ctx.add(fmt::format("{}: box {} of {} does not have the shape of a {} split",
                          ctx.layer_text(l), box_text(b), ctx.who(p), strategy_name(lp.strategy)));
    }
    if (lp.strategy == Strategy::Fused || lp.strategy == Strategy::Tiled) continue;
    for (int q = p + 1; q < ctx.participant_count(); ++q) {
      const Box& other = lp.boxes[ctx.idx(q)];
      if (!other.empty() && !core::intersect(b, other).empty()) {
        ctx.add(fmt::format("{}: {} split boxes of {} and {} overlap in {}", ctx.layer_text(l),
                            strategy_name(lp.strategy), ctx.who(p), ctx.who(q),
                            box_text(core::intersect(b, other))));
      }
    }
  }
  if (lp.strategy == Strategy::Single && non_empty != 1) {
    ctx.add(fmt::format("{}: a Single layer has {} participants computing it", ctx.layer_text(l),
                        non_empty));
  }
}

}  // namespace

void check_structure(Context& ctx, std::vector<ParticipantFacts>& facts) {
  StructureChecker(ctx, facts).run();
}

void check_coverage(Context& ctx) {
  const int layers = std::min(static_cast<int>(ctx.plan().layers.size()), ctx.layer_count());
  for (int l = 0; l < layers; ++l) {
    if (!layer_geometry_problem(ctx.graph(), ctx.layer(l)).empty()) continue;  // reported
    check_layer_coverage(ctx, l);
  }
}

}  // namespace mcusplit::plan::checker
