#include "plan/tiling_pass.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "device/device_image.h"
#include "kernels/op_registry.h"
#include "plan/fused_bands.h"
#include "plan/tiled_runs.h"

namespace mcusplit::plan {

namespace {

constexpr int kRunSpan = 5;     // layers a run may reach either side of the peak
constexpr int kTries = 8;       // candidates built and timed per peak
constexpr int kMaxPasses = 96;  // runs placed in one plan at most

struct Peak {
  int device = -1;
  int step = -1;
  double ratio = 0;  // whole RAM needed / RAM
};

// The device whose whole RAM is the largest fraction of its budget, and the
// step of its peak.
Peak worst_peak(const Plan& plan) {
  Peak worst;
  for (int d = 0; d < plan.device_count(); ++d) {
    const ParticipantPlan& p = plan.participants[static_cast<size_t>(d)];
    const double ratio = static_cast<double>(p.peak_ram_bytes()) / static_cast<double>(p.ram_bytes);
    if (ratio > worst.ratio) worst = {d, plan.peak_layer(d), ratio};
  }
  return worst;
}

// Every device's program fits the tables of a device image (a tiled run
// gives each tile of each layer a buffer and ops of its own).
bool fits_device_images(const Plan& plan) {
  for (int d = 0; d < plan.device_count(); ++d) {
    const ParticipantPlan& p = plan.participants[static_cast<size_t>(d)];
    if (p.buffers.size() > static_cast<size_t>(device::kMaxImageBuffers) ||
        p.ops.size() > static_cast<size_t>(device::kMaxImageOps)) {
      return false;
    }
  }
  return true;
}

// The most bytes live on device d over steps [a, b], plus its runtime.
int64_t peak_over(const Plan& plan, int d, int a, int b) {
  const auto& p = plan.participants[static_cast<size_t>(d)];
  int64_t peak = 0;
  for (int s = a; s <= b; ++s) peak = std::max(peak, p.estimate.live_bytes[static_cast<size_t>(s)]);
  return peak + p.runtime_bytes;
}

// Bytes device d holds at its peak op over steps [a, b] for tensors the run
// [a, b] neither reads nor writes (skip tensors, other layers' data): what a
// run there must leave room for.
int64_t other_live_bytes(const quant::QGraph& graph, const Plan& plan, int d, int a, int b) {
  const ParticipantPlan& p = plan.participants[static_cast<size_t>(d)];
  std::vector<bool> own(graph.tensors.size(), false);
  for (int j = a; j <= b; ++j) {
    const quant::QLayer& l = graph.layers[static_cast<size_t>(j)];
    own[static_cast<size_t>(l.output)] = true;
    for (int t : l.inputs) own[static_cast<size_t>(t)] = true;
  }
  int64_t best_live = -1;
  int64_t other = 0;
  for (int i = 0; i < static_cast<int>(p.ops.size()); ++i) {
    const int step = p.ops[static_cast<size_t>(i)].step;
    if (step < a || step > b) continue;
    int64_t live = 0;
    int64_t foreign = 0;
    for (const PlanBuffer& buf : p.buffers) {
      if (buf.first_op > i || buf.last_op < i) continue;
      live += buf.bytes();
      if (!own[static_cast<size_t>(buf.tensor)]) foreign += buf.bytes();
    }
    if (live > best_live) {
      best_live = live;
      other = foreign;
    }
  }
  return other;
}

std::vector<int32_t> ladder(int32_t extent, const std::vector<int32_t>& divisors, bool heights) {
  std::vector<int32_t> sizes{0};
  if (heights) {
    for (int32_t h : {1, 2, 3, 4, 6, 8, 12, 16, 24, 32}) {
      if (h < extent) sizes.push_back(h);
    }
  } else {
    for (int32_t k : divisors) {
      const int32_t w = (extent + k - 1) / k;
      if (w < extent && std::find(sizes.begin(), sizes.end(), w) == sizes.end()) sizes.push_back(w);
    }
  }
  return sizes;
}

struct Candidate {
  int first = 0;
  int last = 0;
  int32_t tile_h = 0;
  int32_t tile_w = 0;
  bool stream_rows = false;
  int64_t extra_work = 0;
  int64_t tiles = 0;
  int64_t working_set = 0;
};

std::vector<LayerPlan> with_run(std::vector<LayerPlan> layers, const Candidate& c) {
  for (int j = c.first; j < c.last; ++j) {
    LayerPlan& lp = layers[static_cast<size_t>(j)];
    lp.strategy = Strategy::Tiled;
    lp.tile_h = lp.tile_w = 0;
    lp.stream_rows = false;
  }
  LayerPlan& end = layers[static_cast<size_t>(c.last)];
  end.tile_h = c.tile_h;
  end.tile_w = c.tile_w;
  end.stream_rows = c.stream_rows;
  return layers;
}

std::vector<Candidate> candidates(const quant::QGraph& graph, const std::vector<LayerPlan>& layers,
                                  const Plan& plan, const Peak& peak, bool stream_rows) {
  const int count = static_cast<int>(layers.size());
  const ParticipantPlan& p = plan.participants[static_cast<size_t>(peak.device)];
  const int64_t arena_budget = p.ram_bytes - p.runtime_bytes;
  std::vector<Candidate> out;
  for (int a = std::max(0, peak.step - kRunSpan); a <= peak.step; ++a) {
    if (a > 0 && layers[static_cast<size_t>(a) - 1].strategy == Strategy::Tiled) continue;
    for (int b = std::max(a + 1, peak.step); b < count && b <= peak.step + kRunSpan; ++b) {
      if (layers[static_cast<size_t>(b)].strategy == Strategy::Tiled) continue;
      if (!run_problem(graph, a, b).empty()) continue;
      const int64_t budget = arena_budget - other_live_bytes(graph, plan, peak.device, a, b);
      const core::Box& box = layers[static_cast<size_t>(b)].boxes[static_cast<size_t>(peak.device)];
      if (box.empty()) continue;
      const int64_t base = run_footprint(graph, a, b, box, 0, 0, false).work;
      auto consider = [&](int32_t th, int32_t tw, bool stream) {
        const RunFootprint f = run_footprint(graph, a, b, box, th, tw, stream);
        if (f.working_set() > budget) return;
        out.push_back({a, b, th, tw, stream, f.work - base, f.tiles, f.working_set()});
      };
      const LayerPlan& end = layers[static_cast<size_t>(b)];
      for (int32_t th : ladder(box.height(), {}, true)) {
        for (int32_t tw : ladder(box.width(), {2, 3, 4, 6, 8}, false)) {
          // Rows streamed down each column of tiles: halos between rows copied.
          if (th > 0 && stream_rows) consider(th, tw, true);
          if (th == 0 && tw == 0 && end.tile_h == 0 && end.tile_w == 0 &&
              run_first_layer(layers, b) == a) {
            continue;  // the run as it is
          }
          consider(th, tw, false);
        }
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Candidate& x, const Candidate& y) {
    // Least recompute (or copying), then fewest tiles (fewer ops and buffers).
    return std::tie(x.extra_work, x.tiles, x.working_set, x.first, x.last, x.tile_h, x.tile_w,
                    x.stream_rows) < std::tie(y.extra_work, y.tiles, y.working_set, y.first, y.last,
                                              y.tile_h, y.tile_w, y.stream_rows);
  });
  // Streamed runs and recomputed ones alternate: streaming adds the least
  // work but keeps every window live across tiles, so where RAM is tightest
  // only recomputed tiles fit, and the tries must reach both.
  std::vector<Candidate> streamed;
  std::vector<Candidate> recomputed;
  for (const Candidate& c : out) (c.stream_rows ? streamed : recomputed).push_back(c);
  out.clear();
  for (size_t i = 0; i < std::max(streamed.size(), recomputed.size()); ++i) {
    if (i < streamed.size()) out.push_back(streamed[i]);
    if (i < recomputed.size()) out.push_back(recomputed[i]);
  }
  return out;
}

// The greedy placement of runs, streamed ones among the candidates or not.
void place_runs(const quant::QGraph& graph, const ClusterSpec& cluster,
                const CoordinatorSpec& coordinator, int64_t max_payload_bytes, Objective objective,
                bool stream_rows, std::vector<LayerPlan>& layers, Plan& plan) {
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    const Peak peak = worst_peak(plan);
    if (peak.device < 0 || (objective == Objective::Latency && peak.ratio <= 1.0)) return;
    const ParticipantPlan& p = plan.participants[static_cast<size_t>(peak.device)];
    bool placed = false;
    Plan best_plan;
    std::vector<LayerPlan> best_layers;
    // Live bytes over a run never exceed the arena: below `was` is a gain.
    int64_t best_peak = std::numeric_limits<int64_t>::max();
    int tried = 0;
    for (const Candidate& c : candidates(graph, layers, plan, peak, stream_rows)) {
      if (tried++ == kTries) break;
      std::vector<LayerPlan> trial = with_run(layers, c);
      Plan built = build_and_time(graph, cluster, coordinator, max_payload_bytes, trial);
      if (!fits_device_images(built)) continue;
      const int64_t after = peak_over(built, peak.device, c.first, c.last);
      const int64_t was = peak_over(plan, peak.device, c.first, c.last);
      const bool fits_now =
          objective == Objective::Latency ? fits(built) : worst_peak(built).ratio < peak.ratio;
      bool every_fits = true;
      for (int d = 0; d < built.device_count(); ++d) {
        const auto& bp = built.participants[static_cast<size_t>(d)];
        if (peak_over(built, d, c.first, c.last) > bp.ram_bytes) every_fits = false;
      }
      // Every device within its RAM over the run, where the peak was over.
      const bool fixed_here = objective == Objective::Latency && every_fits && was > p.ram_bytes;
      if (fits_now || fixed_here) {
        layers = std::move(trial);
        plan = std::move(built);
        placed = true;
        break;
      }
      if (after < was && after < best_peak) {
        best_peak = after;
        best_plan = std::move(built);
        best_layers = std::move(trial);
      }
    }
    if (placed) continue;
    if (best_layers.empty()) return;  // nothing lowers the peak: the planner reports it
    layers = std::move(best_layers);
    plan = std::move(best_plan);
  }
}

// Plans every layer that can compute in place (depthwise convolution) so;
// false if there is none.
bool plan_in_place(const quant::QGraph& graph, std::vector<LayerPlan>& layers) {
  bool any = false;
  for (size_t i = 0; i < layers.size(); ++i) {
    const quant::QLayer& l = graph.layers[i];
    const core::Box whole = core::full_box(graph.tensors[static_cast<size_t>(l.output)].shape);
    if (layers[i].in_place || kernels::in_place_scratch_bytes(l.record(), l.view(), whole) <= 0) {
      continue;
    }
    layers[i].in_place = any = true;
  }
  return any;
}

// Greedy placement with streamed runs among the candidates, then, if that
// misses the budget, with recomputed tiles only: a streamed run placed early
// can leave a later peak no room (its windows stay live across tiles).
void place_all_runs(const quant::QGraph& graph, const ClusterSpec& cluster,
                    const CoordinatorSpec& coordinator, int64_t max_payload_bytes,
                    Objective objective, std::vector<LayerPlan>& layers, Plan& plan) {
  std::vector<LayerPlan> recomputed_layers = layers;
  Plan recomputed = plan;
  place_runs(graph, cluster, coordinator, max_payload_bytes, objective, true, layers, plan);
  if (objective == Objective::Latency && fits(plan)) return;
  place_runs(graph, cluster, coordinator, max_payload_bytes, objective, false, recomputed_layers,
             recomputed);
  // Else the one nearer to fitting: the planner's next round starts from it.
  if ((objective == Objective::Latency && fits(recomputed)) ||
      worst_peak(recomputed).ratio < worst_peak(plan).ratio) {
    layers = std::move(recomputed_layers);
    plan = std::move(recomputed);
  }
}

// `a` is the better outcome: one that fits over one that does not; among
// fitting plans the faster (latency) or the one using the least of its
// devices' RAM (memory); among the others the one nearer to fitting.
bool better(const Plan& a, const Plan& b, Objective objective) {
  const bool fa = fits(a);
  if (fa != fits(b)) return fa;
  if (fa && objective == Objective::Latency) return a.estimated_latency_s < b.estimated_latency_s;
  return worst_peak(a).ratio < worst_peak(b).ratio;
}

}  // namespace

void tile_to_fit(const quant::QGraph& graph, const ClusterSpec& cluster,
                 const CoordinatorSpec& coordinator, int64_t max_payload_bytes, Objective objective,
                 std::vector<LayerPlan>& layers, Plan& plan) {
  if (objective == Objective::Latency && fits(plan)) return;
  // Depthwise layers in place save their output's bytes but add a copy per
  // output value: the runs are placed both ways and the better plan kept.
  std::vector<LayerPlan> in_place_layers = layers;
  const bool any = plan_in_place(graph, in_place_layers);
  place_all_runs(graph, cluster, coordinator, max_payload_bytes, objective, layers, plan);
  if (!any) return;
  Plan in_place = build_and_time(graph, cluster, coordinator, max_payload_bytes, in_place_layers);
  place_all_runs(graph, cluster, coordinator, max_payload_bytes, objective, in_place_layers,
                 in_place);
  if (better(in_place, plan, objective)) {
    layers = std::move(in_place_layers);
    plan = std::move(in_place);
  }
}

}  // namespace mcusplit::plan
