// Plan checker passes 5 and 6: arenas (no two live buffers or kernel
// scratch regions share a byte, every Compute has its kernel's scratch, RAM
// budgets), weight slices (flash budgets, the channels each Compute
// needs, byte counts) and the estimates that follow from the ops.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/device_runtime_ram.h"
#include "kernels/op_registry.h"
#include "plan/checker_context.h"

namespace mcusplit::plan::checker {
namespace {

using quant::OpType;
using quant::QLayer;

bool has_constants(const QLayer& l) {
  return l.op == OpType::Conv || l.op == OpType::FullyConnected;
}

// Output channels (neurons) the graph layer holds constants for: all of them.
int32_t constant_channels(const QLayer& l) {
  return l.op == OpType::Conv ? l.conv.output.c : l.fc.output_size;
}

// Flash bytes of channels [c0, c1) of a layer's constants: per-channel
// arrays contribute their share, shared ones (a per-tensor requantization)
// in full.
int64_t slice_bytes(const QLayer& l, int32_t c0, int32_t c1) {
  const int64_t channels = constant_channels(l);
  const int64_t n = c1 - c0;
  const auto array = [&](size_t size, int64_t element_bytes) -> int64_t {
    const auto count = static_cast<int64_t>(size);
    if (count == 0) return 0;
    if (count % channels == 0) return count / channels * n * element_bytes;
    return count * element_bytes;
  };
  return array(l.weights.size(), 1) + array(l.bias.size(), 4) + array(l.multiplier.size(), 4) +
         array(l.shift.size(), 4);
}

// One stretch of a participant's arena and the ops it is live at
// (inclusive): buffer `buffer`, or the kernel scratch of op `op` (live at
// that op only).
struct ArenaRegion {
  int64_t offset = 0;
  int64_t bytes = 0;
  int first_op = 0;
  int last_op = 0;
  int buffer = -1;
  int op = -1;
};

// The scratch op `op` of participant p needs to compute in place, if it
// does: a Compute of a layer planned in place whose output buffer shares
// bytes with its input 0's buffer, from the same first byte, with the same
// channels, computing the whole output buffer and no larger than the input;
// the input dies at the op and the output is born there. 0 otherwise.
int64_t in_place_scratch(const Context& ctx, int p, int op) {
  const ParticipantPlan& pp = ctx.participant(p);
  const PlanOp& o = pp.ops[Context::idx(op)];
  if (o.kind != OpKind::Compute || !ctx.valid_layer(o.layer) ||
      Context::idx(o.layer) >= ctx.plan().layers.size() ||
      !ctx.plan().layers[Context::idx(o.layer)].in_place || o.inputs.empty() || o.inputs[0] < 0 ||
      Context::idx(o.inputs[0]) >= pp.buffers.size() || o.dst_buffer < 0 ||
      Context::idx(o.dst_buffer) >= pp.buffers.size()) {
    return 0;
  }
  const PlanBuffer& in = pp.buffers[Context::idx(o.inputs[0])];
  const PlanBuffer& out = pp.buffers[Context::idx(o.dst_buffer)];
  if (in.offset != out.offset || in.last_op != op || out.first_op != op || !(o.box == out.box) ||
      in.box.c0 != out.box.c0 || in.box.c1 != out.box.c1 || out.bytes() > in.bytes()) {
    return 0;
  }
  const quant::QLayer& l = ctx.layer(o.layer);
  return kernels::in_place_scratch_bytes(l.record(), l.view(), o.box);
}

std::vector<ArenaRegion> arena_regions(const Context& ctx, int p) {
  const ParticipantPlan& pp = ctx.participant(p);
  std::vector<ArenaRegion> regions;
  for (size_t b = 0; b < pp.buffers.size(); ++b) {
    const PlanBuffer& buf = pp.buffers[b];
    regions.push_back(
        ArenaRegion{buf.offset, buf.bytes(), buf.first_op, buf.last_op, static_cast<int>(b), -1});
  }
  // An output computed in place holds its own bytes only after its op: at
  // the op they are its input's.
  for (int i = 0; i < static_cast<int>(pp.ops.size()); ++i) {
    if (in_place_scratch(ctx, p, i) <= 0) continue;
    ArenaRegion& out = regions[Context::idx(pp.ops[Context::idx(i)].dst_buffer)];
    ++out.first_op;
    if (out.first_op > out.last_op) out.bytes = 0;
  }
  for (size_t i = 0; i < pp.ops.size(); ++i) {
    const PlanOp& o = pp.ops[i];
    if (o.scratch_bytes <= 0) continue;
    regions.push_back(ArenaRegion{o.scratch_offset, o.scratch_bytes, static_cast<int>(i),
                                  static_cast<int>(i), -1, static_cast<int>(i)});
  }
  return regions;
}

// Words for a region, made only when a problem names it.
std::string region_text(const Context& ctx, int p, const ArenaRegion& r) {
  if (r.buffer >= 0) return ctx.buffer_text(p, r.buffer);
  return fmt::format("the kernel scratch of op {} ([{}, {}))", r.op, r.offset, r.offset + r.bytes);
}

void check_overlaps(Context& ctx, int p, const std::vector<ArenaRegion>& regions) {
  std::vector<const ArenaRegion*> order;
  for (const ArenaRegion& r : regions) {
    if (r.bytes > 0 && r.offset >= 0) order.push_back(&r);
  }
  std::sort(order.begin(), order.end(),
            [](const ArenaRegion* a, const ArenaRegion* b) { return a->offset < b->offset; });
  // Sweep by offset: only regions starting before one ends can share bytes.
  for (size_t i = 0; i < order.size(); ++i) {
    const ArenaRegion& a = *order[i];
    const int64_t end = a.offset + a.bytes;
    for (size_t j = i + 1; j < order.size(); ++j) {
      const ArenaRegion& b = *order[j];
      if (b.offset >= end) break;
      if (a.first_op <= b.last_op && b.first_op <= a.last_op) {
        ctx.add(fmt::format("{}: {} and {} share arena bytes [{}, {}) while both live at op {}",
                            ctx.who(p), region_text(ctx, p, a), region_text(ctx, p, b), b.offset,
                            std::min(end, b.offset + b.bytes), std::max(a.first_op, b.first_op)));
      }
    }
  }
}

// Every Compute has at least the scratch its kernel states for its box, at a
// 4-byte aligned offset (kernels::Scratch); no other op has any.
void check_scratch(Context& ctx, int p) {
  const ParticipantPlan& pp = ctx.participant(p);
  for (size_t i = 0; i < pp.ops.size(); ++i) {
    const PlanOp& o = pp.ops[i];
    const std::string where = ctx.where(p, static_cast<int>(i));
    if (o.scratch_bytes < 0 || o.scratch_offset < 0) {
      ctx.add(fmt::format("{}: negative kernel scratch ({} bytes at offset {})", where,
                          o.scratch_bytes, o.scratch_offset));
      continue;
    }
    if (o.kind != OpKind::Compute) {
      if (o.scratch_bytes != 0 || o.scratch_offset != 0) {
        ctx.add(fmt::format("{}: only a Compute has kernel scratch, it has {} bytes at offset {}",
                            where, o.scratch_bytes, o.scratch_offset));
      }
      continue;
    }
    if (!ctx.valid_layer(o.layer) || o.box.empty()) continue;  // reported by the structure pass
    const quant::QLayer& l = ctx.layer(o.layer);
    const int64_t in_place = in_place_scratch(ctx, p, static_cast<int>(i));
    const int64_t need = in_place > 0 ? in_place : l.record().scratch_bytes(l.view(), o.box);
    if (o.scratch_bytes < need) {
      ctx.add(fmt::format("{}: {} bytes of kernel scratch, but the {} kernel needs {} for {}{}",
                          where, o.scratch_bytes, quant::op_type_name(l.op), need, box_text(o.box),
                          in_place > 0 ? " in place" : ""));
    }
    if (o.scratch_bytes > 0 && o.scratch_offset % 4 != 0) {
      ctx.add(fmt::format("{}: kernel scratch at offset {}, not 4-byte aligned", where,
                          o.scratch_offset));
    }
  }
}

void check_arena(Context& ctx, int p) {
  const ParticipantPlan& pp = ctx.participant(p);
  const std::vector<ArenaRegion> regions = arena_regions(ctx, p);
  int64_t extent = 0;
  for (const ArenaRegion& r : regions) extent = std::max(extent, r.offset + r.bytes);
  if (extent != pp.arena_bytes) {
    ctx.add(fmt::format("{}: arena_bytes is {}, but its buffers and kernel scratch end at byte {}",
                        ctx.who(p), pp.arena_bytes, extent));
  }
  const int64_t runtime = pp.coordinator ? 0 : core::kDeviceRuntimeRamBytes;
  if (pp.runtime_bytes != runtime) {
    ctx.add(fmt::format("{}: charges {} bytes for the device runtime's own RAM, which is {}",
                        ctx.who(p), pp.runtime_bytes, runtime));
  }
  if (pp.ram_bytes > 0 && pp.arena_bytes + runtime > pp.ram_bytes) {
    ctx.add(
        fmt::format("{}: arena of {} bytes and the runtime's {} exceed its RAM budget of {} bytes",
                    ctx.who(p), pp.arena_bytes, runtime, pp.ram_bytes));
  }
  check_scratch(ctx, p);
  check_overlaps(ctx, p, regions);
}

void check_weights(Context& ctx, int p) {
  const ParticipantPlan& pp = ctx.participant(p);
  int64_t total = 0;
  std::vector<int> slice_of(ctx.idx(ctx.layer_count()), -1);
  for (size_t i = 0; i < pp.weights.size(); ++i) {
    const WeightSlice& w = pp.weights[i];
    total += w.bytes;
    const std::string what = fmt::format("{}: weight slice {} (layer #{}, channels [{}, {}))",
                                         ctx.who(p), i, w.layer, w.c0, w.c1);
    if (!ctx.valid_layer(w.layer)) {
      ctx.add(what + ": layer index out of range");
      continue;
    }
    const QLayer& l = ctx.layer(w.layer);
    if (!has_constants(l)) {
      ctx.add(fmt::format("{}: {} has no constants", what, ctx.layer_text(w.layer)));
      continue;
    }
    if (slice_of[ctx.idx(w.layer)] >= 0) {
      ctx.add(fmt::format("{}: a second slice of {}", what, ctx.layer_text(w.layer)));
      continue;
    }
    slice_of[ctx.idx(w.layer)] = static_cast<int>(i);
    if (w.c0 < 0 || w.c0 >= w.c1 || w.c1 > constant_channels(l)) {
      ctx.add(fmt::format("{}: not a channel range of {} ({} channels)", what,
                          ctx.layer_text(w.layer), constant_channels(l)));
      continue;
    }
    const int64_t expected = slice_bytes(l, w.c0, w.c1);
    if (w.bytes != expected) {
      ctx.add(fmt::format("{}: {} bytes, but those channels of {} hold {} bytes of constants", what,
                          w.bytes, ctx.layer_text(w.layer), expected));
    }
  }
  if (total != pp.weight_bytes) {
    ctx.add(fmt::format("{}: weight_bytes is {}, but its slices hold {} bytes", ctx.who(p),
                        pp.weight_bytes, total));
  }
  if (pp.flash_bytes > 0 && pp.weight_bytes > pp.flash_bytes) {
    ctx.add(fmt::format("{}: {} bytes of weights exceed its flash budget of {} bytes", ctx.who(p),
                        pp.weight_bytes, pp.flash_bytes));
  }

  // Every Compute of a layer with constants finds its channels in flash, and
  // no slice is kept for a layer the participant does not compute.
  std::vector<bool> computed(ctx.idx(ctx.layer_count()), false);
  for (size_t i = 0; i < pp.ops.size(); ++i) {
    const PlanOp& o = pp.ops[i];
    if (o.kind != OpKind::Compute || !ctx.valid_layer(o.layer) || o.box.empty()) continue;
    computed[ctx.idx(o.layer)] = true;
    if (!has_constants(ctx.layer(o.layer))) continue;
    const int s = slice_of[ctx.idx(o.layer)];
    const std::string where = ctx.where(p, static_cast<int>(i));
    if (s < 0) {
      ctx.add(fmt::format("{}: no weight slice for {}", where, ctx.layer_text(o.layer)));
      continue;
    }
    const WeightSlice& w = pp.weights[ctx.idx(s)];
    if (o.box.c0 < w.c0 || o.box.c1 > w.c1) {
      ctx.add(
          fmt::format("{}: computes channels [{}, {}) of {}, but its weight slice holds [{}, {})",
                      where, o.box.c0, o.box.c1, ctx.layer_text(o.layer), w.c0, w.c1));
    }
  }
  for (int l = 0; l < ctx.layer_count(); ++l) {
    if (slice_of[ctx.idx(l)] >= 0 && !computed[ctx.idx(l)]) {
      ctx.add(fmt::format("{}: keeps a weight slice of {}, which it does not compute", ctx.who(p),
                          ctx.layer_text(l)));
    }
  }
}

}  // namespace

void check_arenas_and_weights(Context& ctx) {
  for (int p = 0; p < ctx.participant_count(); ++p) {
    check_arena(ctx, p);
    check_weights(ctx, p);
  }
}

// The most bytes live at any op of each step; a step without ops of its own
// holds the regions live on both sides of it.
std::vector<int64_t> live_per_step(const ParticipantPlan& pp,
                                   const std::vector<ArenaRegion>& regions, int steps) {
  std::vector<int64_t> live(Context::idx(std::max(steps, 0)), 0);
  const int ops = static_cast<int>(pp.ops.size());
  // Bytes live at op i, and live across the gap just before op i.
  auto at = [&](int i, bool gap) {
    int64_t bytes = 0;
    for (const ArenaRegion& r : regions) {
      if ((gap ? r.first_op < i : r.first_op <= i) && i <= r.last_op) bytes += r.bytes;
    }
    return bytes;
  };
  int i = 0;
  for (int s = 0; s < steps; ++s) {
    bool any = false;
    for (; i < ops && pp.ops[Context::idx(i)].step <= s; ++i) {
      if (pp.ops[Context::idx(i)].step < s) continue;  // out of order: reported elsewhere
      any = true;
      live[Context::idx(s)] = std::max(live[Context::idx(s)], at(i, false));
    }
    if (!any && i < ops) live[Context::idx(s)] = at(i, true);
  }
  return live;
}

void check_estimates(Context& ctx) {
  const int steps = ctx.plan().step_count();
  for (int p = 0; p < ctx.participant_count(); ++p) {
    const ParticipantPlan& pp = ctx.participant(p);
    int64_t sent = 0;
    int64_t received = 0;
    for (const PlanOp& o : pp.ops) {
      if (o.kind == OpKind::Send) sent += o.box.volume();
      if (o.kind == OpKind::Receive) received += o.box.volume();
    }
    if (pp.estimate.bytes_sent != sent || pp.estimate.bytes_received != received) {
      ctx.add(fmt::format(
          "{}: estimate says {} bytes sent and {} received, its Send/Receive ops move {} and {}",
          ctx.who(p), pp.estimate.bytes_sent, pp.estimate.bytes_received, sent, received));
    }
    const std::vector<int64_t> live = live_per_step(pp, arena_regions(ctx, p), steps);
    if (pp.estimate.live_bytes != live) {
      const auto& est = pp.estimate.live_bytes;
      std::string detail = fmt::format("{} entries for {} steps", est.size(), steps);
      if (est.size() == live.size()) {
        const auto diff = std::mismatch(est.begin(), est.end(), live.begin()).first - est.begin();
        detail = fmt::format("step {}: {} bytes, live then: {} bytes", diff,
                             est[static_cast<size_t>(diff)], live[static_cast<size_t>(diff)]);
      }
      ctx.add(
          fmt::format("{}: estimated live bytes disagree with its buffers and kernel scratch ({})",
                      ctx.who(p), detail));
    }
  }
}

}  // namespace mcusplit::plan::checker
