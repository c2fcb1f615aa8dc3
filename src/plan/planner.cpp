#include "plan/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "core/device_runtime_ram.h"
#include "plan/fused_bands.h"
#include "plan/plan_file.h"
#include "plan/tiling_pass.h"

namespace mcusplit::plan {

using quant::QGraph;

namespace {

constexpr int kRounds = 32;
constexpr int kMaxCountSearched = 64;

std::string kib(int64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%lld bytes (%.1f KiB)", static_cast<long long>(bytes),
                static_cast<double>(bytes) / 1024.0);
  return text;
}

struct Overflow {
  int device = -1;
  int layer = -1;
  int64_t needed = 0;
  int64_t available = 0;
  bool flash = false;
};

// The device furthest over its RAM (or flash) and the layer at its peak.
Overflow worst_overflow(const Plan& plan) {
  Overflow worst;
  double worst_ratio = 1.0;
  for (int d = 0; d < plan.device_count(); ++d) {
    const ParticipantPlan& p = plan.participants[static_cast<size_t>(d)];
    const double ram = static_cast<double>(p.peak_ram_bytes()) / static_cast<double>(p.ram_bytes);
    const double flash = static_cast<double>(p.weight_bytes) / static_cast<double>(p.flash_bytes);
    if (ram > worst_ratio) {
      worst_ratio = ram;
      worst = {d, plan.peak_layer(d), p.peak_ram_bytes(), p.ram_bytes, false};
    }
    if (flash > worst_ratio) {
      worst_ratio = flash;
      worst = {d, -1, p.weight_bytes, p.flash_bytes, true};
    }
  }
  return worst;
}

// Lowers device d's share where it overflows (see planner.h).
void relieve(const Plan& plan, const Overflow& o, ShareWeights& weights,
             std::vector<bool>& channel_only) {
  const auto d = static_cast<size_t>(o.device);
  if (o.flash) {
    // Layers whose whole weights the device holds are split by channels
    // from now on (largest first); layers already split by channels drop it.
    std::vector<WeightSlice> slices = plan.participants[d].weights;
    std::sort(slices.begin(), slices.end(),
              [](const WeightSlice& a, const WeightSlice& b) { return a.bytes > b.bytes; });
    int64_t over = o.needed - o.available;
    for (const WeightSlice& w : slices) {
      if (over <= 0) return;
      const auto layer = static_cast<size_t>(w.layer);
      if (plan.layers[layer].strategy == Strategy::Channel || channel_only[layer]) continue;
      channel_only[layer] = true;
      double total = 0;
      for (double x : weights[layer]) total += x;
      const double share = total > 0 ? weights[layer][d] / total : 0;
      over -= static_cast<int64_t>(static_cast<double>(w.bytes) * (1.0 - share));
    }
    // Every layer is already split by channels: give up the largest slices
    // (unless the device is the layer's last one).
    for (const WeightSlice& w : slices) {
      if (over <= 0) return;
      auto& layer = weights[static_cast<size_t>(w.layer)];
      const int others = static_cast<int>(
          std::count_if(layer.begin(), layer.end(), [](double x) { return x > 0; }));
      if (others <= 1) continue;
      layer[d] = 0;
      over -= w.bytes;
    }
    return;
  }
  const double factor =
      std::clamp(0.9 * static_cast<double>(o.available) / static_cast<double>(o.needed), 0.1, 0.95);
  for (int i = std::max(0, o.layer - 1);
       i <= std::min(o.layer + 1, static_cast<int>(weights.size()) - 1); ++i) {
    auto& layer = weights[static_cast<size_t>(i)];
    const double before = layer[d];
    layer[d] *= factor;
    if (layer[d] < 1e-3 * *std::max_element(layer.begin(), layer.end())) layer[d] = 0;
    // Someone must still compute the layer.
    if (std::all_of(layer.begin(), layer.end(), [](double w) { return w <= 0; })) {
      layer[d] = before;
    }
  }
}

std::string device_type(const DeviceSpec& d) {
  return d.profile.empty() ? d.name : d.profile;
}

// The cluster with `count` devices of `type` (copies of the first such
// device), the others unchanged.
ClusterSpec with_count(const ClusterSpec& cluster, const std::string& type, int count) {
  ClusterSpec out = cluster;
  out.devices.clear();
  const DeviceSpec* model = nullptr;
  for (const DeviceSpec& d : cluster.devices) {
    if (device_type(d) == type) {
      if (model == nullptr) model = &d;
    } else {
      out.devices.push_back(d);
    }
  }
  for (int k = 0; k < count; ++k) {
    DeviceSpec d = *model;
    d.name = type + "-n" + std::to_string(k);
    out.devices.push_back(d);
  }
  return out;
}

bool feasible(const QGraph& graph, const ClusterSpec& cluster, PlanOptions options) {
  options.search_min_count = false;
  try {
    make_plan(graph, cluster, options);
    return true;
  } catch (const Error& e) {
    if (e.exit_code() != kExitInfeasible) throw;
    return false;
  }
}

// Smallest count of `type` that fits, searched by doubling then bisection
// (more devices of a type never need more RAM per device in this planner's
// shares); 0 if none up to kMaxCountSearched.
int smallest_fitting_count(const QGraph& graph, const ClusterSpec& cluster, const std::string& type,
                           const PlanOptions& options) {
  int have = 0;
  for (const DeviceSpec& d : cluster.devices) have += device_type(d) == type ? 1 : 0;
  int low = have;  // known not to fit
  int high = std::max(1, have);
  while (true) {
    high = std::min(high * 2, kMaxCountSearched);
    if (feasible(graph, with_count(cluster, type, high), options)) break;
    if (high == kMaxCountSearched) return 0;
    low = high;
  }
  while (high - low > 1) {
    const int mid = (low + high) / 2;
    if (feasible(graph, with_count(cluster, type, mid), options)) {
      high = mid;
    } else {
      low = mid;
    }
  }
  return high;
}

[[noreturn]] void infeasible(const QGraph& graph, const ClusterSpec& cluster,
                             const PlanOptions& options, const Overflow& o) {
  const DeviceSpec& d = cluster.devices[static_cast<size_t>(o.device)];
  std::string message = "the model does not fit the cluster: ";
  if (o.flash) {
    message += "device '" + d.name + "' needs " + kib(o.needed) +
               " of flash for its weights, has " + kib(o.available);
  } else {
    message += "layer '" + graph.layers[static_cast<size_t>(o.layer)].name + "' needs " +
               kib(o.needed) + " of RAM on device '" + d.name + "', which has " + kib(o.available);
  }
  if (options.search_min_count) {
    const std::string type = device_type(d);
    const int count = smallest_fitting_count(graph, cluster, type, options);
    message +=
        count > 0
            ? "; the smallest count of " + type + " that fits is " + std::to_string(count)
            : "; no count of " + type + " up to " + std::to_string(kMaxCountSearched) + " fits";
  }
  throw Error(message, kExitInfeasible);
}

// The plan for these share weights (make_plan's rounds: choose, fuse,
// balance, build, tile, relieve the worst overflow); throws as make_plan.
Plan plan_with_weights(const QGraph& graph, const ClusterSpec& cluster, const PlanOptions& options,
                       ShareWeights weights);

}  // namespace

Scheme parse_scheme(const std::string& text) {
  if (text == "auto") return Scheme::Auto;
  if (text == "paper") return Scheme::Paper;
  throw Error("unknown strategy '" + text + "' (use auto or paper)");
}

Objective parse_objective(const std::string& text) {
  if (text == "latency") return Objective::Latency;
  if (text == "memory") return Objective::Memory;
  throw Error("unknown objective '" + text + "' (use latency or memory)");
}

const char* scheme_name(Scheme s) {
  return s == Scheme::Auto ? "auto" : "paper";
}

const char* objective_name(Objective o) {
  return o == Objective::Latency ? "latency" : "memory";
}

Plan make_plan(const QGraph& graph, const ClusterSpec& cluster, const PlanOptions& options) {
  validate_cluster(cluster, "cluster");
  if (graph.layers.empty()) throw Error("the model has no layers to plan");
  for (const DeviceSpec& d : cluster.devices) {
    if (d.ram_bytes > core::kDeviceRuntimeRamBytes) continue;
    throw Error("the model does not fit the cluster: device '" + d.name + "' has " +
                    std::to_string(d.ram_bytes) +
                    " bytes of RAM, no more than the device runtime's own " +
                    std::to_string(core::kDeviceRuntimeRamBytes) +
                    " (stack, frame buffers, session state), so no arena fits at any device count",
                kExitInfeasible);
  }
  const bool latency = options.scheme == Scheme::Auto && options.objective == Objective::Latency;
  ShareWeights weights = options.scheme == Scheme::Auto && options.objective == Objective::Memory
                             ? ram_weights(graph, cluster)
                             : speed_weights(graph, cluster);
  Plan best = plan_with_weights(graph, cluster, options, weights);
  if (!latency) return best;
  // The optimizer decides layer by layer; a device much slower than the
  // others can still cost the run more than it gives (its small shares
  // wait for it, its boxes need halos). Try leaving out the slowest speed
  // class, then the two slowest, ... and keep the fastest plan: the devices
  // left out get no box of any layer, and the plan says so (plan's layers
  // column).
  std::vector<double> speeds;
  for (const DeviceSpec& d : cluster.devices) speeds.push_back(d.macs_per_second);
  std::vector<double> classes = speeds;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  PlanOptions trial = options;
  trial.search_min_count = false;
  for (size_t slow = 0; slow + 1 < classes.size(); ++slow) {
    ShareWeights without = weights;
    for (std::vector<double>& layer : without) {
      for (size_t d = 0; d < layer.size(); ++d) {
        if (speeds[d] <= classes[slow]) layer[d] = 0;
      }
    }
    try {
      Plan plan = plan_with_weights(graph, cluster, trial, without);
      if (plan.estimated_latency_s < best.estimated_latency_s) best = std::move(plan);
    } catch (const Error&) {
      // Without those devices the model does not fit: keep them.
    }
  }
  return best;
}

namespace {

Plan plan_with_weights(const QGraph& graph, const ClusterSpec& cluster, const PlanOptions& options,
                       ShareWeights weights) {
  std::vector<bool> channel_only(graph.layers.size(), false);
  Overflow last;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<LayerPlan> layers;
    if (options.scheme == Scheme::Paper) {
      layers = choose_paper(graph, cluster, weights);
    } else {
      NoFit no_fit;
      layers = choose_auto(graph, cluster, options.coordinator, options.objective, weights,
                           channel_only, &no_fit);
      if (layers.empty() && options.tile) {
        // No layout fits layer by layer: take the best one charging what is
        // over, and let tiled runs bring it down.
        layers = choose_auto(graph, cluster, options.coordinator, options.objective, weights,
                             channel_only, nullptr, true);
      }
      if (layers.empty()) {
        infeasible(graph, cluster, options,
                   Overflow{no_fit.device, no_fit.layer, no_fit.needed_bytes,
                            no_fit.available_bytes, false});
      }
      if (options.fuse) {
        fuse_bands(graph, cluster, options.coordinator, options.max_payload_bytes, layers);
      }
      balance_shares(graph, weights, layers);
    }
    Plan plan =
        build_and_time(graph, cluster, options.coordinator, options.max_payload_bytes, layers);
    if (options.scheme == Scheme::Auto && options.tile) {
      tile_to_fit(graph, cluster, options.coordinator, options.max_payload_bytes, options.objective,
                  layers, plan);
    }
    const Overflow overflow = worst_overflow(plan);
    // Report the round that came closest: later rounds shrink shares and may
    // overflow elsewhere by more.
    if (round == 0 || (overflow.device >= 0 &&
                       overflow.needed * last.available < last.needed * overflow.available)) {
      last = overflow;
    }
    if (overflow.device < 0) {
      plan.model_name = graph.source_model;
      plan.model_hash = model_hash(graph);
      plan.strategy = scheme_name(options.scheme);
      plan.objective = objective_name(options.objective);
      return plan;
    }
    relieve(plan, overflow, weights, channel_only);
  }
  infeasible(graph, cluster, options, last);
}

}  // namespace

}  // namespace mcusplit::plan
