#include "plan/optimizer.h"

#include <algorithm>
#include <climits>
#include <limits>

#include "core/device_runtime_ram.h"
#include "plan/box_algebra.h"
#include "plan/cost_model.h"
#include "plan/fused_bands.h"
#include "plan/layer_geometry.h"
#include "plan/partition.h"

namespace mcusplit::plan {

using core::Box;
using quant::OpType;
using quant::QGraph;
using quant::QLayer;

namespace {

// What the soft-RAM search charges per byte over a device's RAM: far more
// than any layer takes, so a layout that fits always wins.
constexpr double kOverflowSecondsPerByte = 1e-3;

int64_t vol(const Box& b) {
  return b.volume();
}

// The device that takes whole layers: the most RAM, then the fastest.
int roomiest_device(const ClusterSpec& cluster) {
  int best = 0;
  for (int d = 1; d < cluster.device_count(); ++d) {
    const DeviceSpec& a = cluster.devices[static_cast<size_t>(d)];
    const DeviceSpec& b = cluster.devices[static_cast<size_t>(best)];
    if (a.ram_bytes > b.ram_bytes ||
        (a.ram_bytes == b.ram_bytes && a.macs_per_second > b.macs_per_second)) {
      best = d;
    }
  }
  return best;
}

LayerPlan layer_plan(const QGraph& g, int layer, Strategy strategy, int single,
                     const std::vector<double>& device_weights, int participants,
                     std::vector<double>* carry, Rounding rounding = Rounding::Shortest) {
  const QLayer& l = g.layers[static_cast<size_t>(layer)];
  const core::TensorShape3& shape = g.tensors[static_cast<size_t>(l.output)].shape;
  std::vector<double> w(static_cast<size_t>(participants), 0.0);
  std::copy(device_weights.begin(), device_weights.end(), w.begin());
  const double work = static_cast<double>(box_work(l, core::full_box(shape)));
  return LayerPlan{strategy, divide_output(strategy, shape, w, single, carry, work,
                                           channel_group_of(l), rounding)};
}

struct Candidate {
  Strategy strategy = Strategy::Single;
  int single = 0;
  LayerPlan plan;
};

struct Cost {
  double memory = 0;  // largest fraction of a device's RAM used so far
  double time = 0;
};

class AutoPlanner {
 public:
  AutoPlanner(const QGraph& g, const ClusterSpec& cluster, const CoordinatorSpec& coordinator,
              Objective objective, const ShareWeights& weights,
              const std::vector<bool>& channel_only, bool soft_ram)
      : g_(g),
        cluster_(cluster),
        objective_(objective),
        soft_ram_(soft_ram),
        devices_(cluster.device_count()),
        participants_(devices_ + 1) {
    probe_.cluster = cluster;
    probe_.coordinator_spec = coordinator;
    producer_.assign(g.tensors.size(), -1);
    last_consumer_.assign(g.tensors.size(), -1);
    for (size_t i = 0; i < g.layers.size(); ++i) {
      producer_[static_cast<size_t>(g.layers[i].output)] = static_cast<int>(i);
      for (int t : g.layers[i].inputs) {
        last_consumer_[static_cast<size_t>(t)] = static_cast<int>(i);
      }
    }
    last_consumer_[static_cast<size_t>(g.output)] = static_cast<int>(g.layers.size());
    const int roomy = roomiest_device(cluster);
    for (size_t i = 0; i < g.layers.size(); ++i) {
      const int layer = static_cast<int>(i);
      const auto& shape = g.tensors[static_cast<size_t>(g.layers[i].output)].shape;
      const auto& w = weights[i];
      const bool only_channels =
          i < channel_only.size() && channel_only[i] && devices_ > 1 && shape.c > 1;
      std::vector<Candidate> c;
      if (!only_channels) {
        c.push_back({Strategy::Single, roomy,
                     layer_plan(g, layer, Strategy::Single, roomy, w, participants_, nullptr)});
      }
      if (devices_ > 1 && shape.c > 1) {
        c.push_back({Strategy::Channel, 0,
                     layer_plan(g, layer, Strategy::Channel, 0, w, participants_, nullptr)});
      }
      if (devices_ > 1 && shape.h > 1 && !only_channels) {
        c.push_back({Strategy::Spatial, 0,
                     layer_plan(g, layer, Strategy::Spatial, 0, w, participants_, nullptr)});
      }
      // A split that gives nobody anything (every share weight zero) is no
      // candidate.
      std::erase_if(c, [](const Candidate& k) {
        return std::all_of(k.plan.boxes.begin(), k.plan.boxes.end(),
                           [](const Box& b) { return b.empty(); });
      });
      candidates_.push_back(std::move(c));
    }
  }

  std::vector<int> solve(NoFit* no_fit) {
    const size_t layers = g_.layers.size();
    cost_.assign(layers, {});
    back_.assign(layers, {});
    for (size_t i = 0; i < layers; ++i) {
      const size_t states = candidates_[i].size();
      cost_[i].assign(states, Cost{});
      back_[i].assign(states, -1);
      reachable_.resize(layers);
      reachable_[i].assign(states, false);
      NoFit best_miss;
      for (size_t s = 0; s < states; ++s) {
        const size_t preds = i == 0 ? 1 : candidates_[i - 1].size();
        for (size_t sp = 0; sp < preds; ++sp) {
          if (i > 0 && !reachable_[i - 1][sp]) continue;
          NoFit miss;
          Cost c;
          if (!evaluate(static_cast<int>(i), static_cast<int>(s), i == 0 ? -1 : int(sp), &c,
                        &miss)) {
            if (best_miss.layer < 0 || miss.needed_bytes - miss.available_bytes <
                                           best_miss.needed_bytes - best_miss.available_bytes) {
              best_miss = miss;
            }
            continue;
          }
          if (i > 0) {
            const Cost& before = cost_[i - 1][sp];
            c.memory = std::max(c.memory, before.memory);
            c.time += before.time;
          }
          if (!reachable_[i][s] || better(c, cost_[i][s])) {
            reachable_[i][s] = true;
            cost_[i][s] = c;
            back_[i][s] = static_cast<int>(sp);
          }
        }
      }
      if (std::none_of(reachable_[i].begin(), reachable_[i].end(), [](bool b) { return b; })) {
        if (no_fit != nullptr) *no_fit = best_miss;
        return {};
      }
    }
    // Best final state, then the path back.
    int s = -1;
    for (size_t k = 0; k < candidates_[layers - 1].size(); ++k) {
      if (reachable_[layers - 1][k] &&
          (s < 0 || better(cost_[layers - 1][k], cost_[layers - 1][size_t(s)]))) {
        s = static_cast<int>(k);
      }
    }
    std::vector<int> path(layers, 0);
    for (int i = static_cast<int>(layers) - 1; i >= 0; --i) {
      path[static_cast<size_t>(i)] = s;
      s = back_[static_cast<size_t>(i)][static_cast<size_t>(s)];
    }
    return path;
  }

  const Candidate& candidate(int layer, int state) const {
    return candidates_[static_cast<size_t>(layer)][static_cast<size_t>(state)];
  }

 private:
  bool better(const Cost& a, const Cost& b) const {
    if (objective_ == Objective::Memory && std::abs(a.memory - b.memory) > 1e-9) {
      return a.memory < b.memory;
    }
    return a.time < b.time;
  }

  // Boxes of tensor t per participant on the path ending in (layer, state).
  const std::vector<Box>& layout_on_path(int t, int layer, int state) {
    if (t == g_.input) {
      input_layout_.assign(static_cast<size_t>(participants_), Box{});
      input_layout_[static_cast<size_t>(devices_)] =
          core::full_box(g_.tensors[static_cast<size_t>(t)].shape);
      return input_layout_;
    }
    const int producer = producer_[static_cast<size_t>(t)];
    int s = state;
    for (int i = layer; i > producer; --i) {
      s = back_[static_cast<size_t>(i)][static_cast<size_t>(s)];
    }
    return candidate(producer, s).plan.boxes;
  }

  // Cost of layer i in state s after state sp of layer i-1 (-1 for none).
  bool evaluate(int i, int s, int sp, Cost* cost, NoFit* miss) {
    const QLayer& l = g_.layers[static_cast<size_t>(i)];
    const Candidate& cand = candidate(i, s);
    const auto& boxes = cand.plan.boxes;
    const size_t n = static_cast<size_t>(participants_);
    std::vector<int64_t> memory(n, 0);
    std::vector<int64_t> sent(n, 0);
    std::vector<int64_t> received(n, 0);
    std::vector<int64_t> messages(n, 0);
    double compute = 0;
    for (size_t p = 0; p < n; ++p) {
      compute = std::max(compute, seconds(static_cast<int>(p), l, boxes[p]));
      memory[p] += vol(boxes[p]);
    }
    std::vector<int> seen;
    auto move_in = [&](int t, const std::vector<Box>& need) {
      const std::vector<Box>& have = layout_before(t, i, sp);
      for (size_t p = 0; p < n; ++p) {
        if (need[p].empty()) continue;
        memory[p] += vol(bounding_box(need[p], have[p]));
        const Box local = core::intersect(need[p], have[p]);
        received[p] += vol(need[p]) - vol(local);
        for (size_t q = 0; q < n; ++q) {
          if (q == p) continue;
          const int64_t part = vol(core::intersect(need[p], have[q]));
          if (part > 0) {
            sent[q] += part;
            ++messages[q];
          }
        }
      }
    };
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const int t = l.inputs[k];
      if (std::find(seen.begin(), seen.end(), t) != seen.end()) continue;
      seen.push_back(t);
      std::vector<Box> need(n);
      for (size_t kk = k; kk < l.inputs.size(); ++kk) {
        if (l.inputs[kk] != t) continue;
        for (size_t p = 0; p < n; ++p) {
          need[p] = bounding_box(need[p], required_box(g_, l, static_cast<int>(kk), boxes[p]));
        }
      }
      move_in(t, need);
    }
    // Skip tensors: alive across this layer on the best path to it.
    if (sp >= 0) {
      for (size_t t = 0; t < g_.tensors.size(); ++t) {
        const int tt = static_cast<int>(t);
        if (std::find(seen.begin(), seen.end(), tt) != seen.end() || tt == g_.input) continue;
        if (producer_[t] < 0 || producer_[t] >= i || last_consumer_[t] <= i) continue;
        const std::vector<Box>& have = layout_before(tt, i, sp);
        for (size_t p = 0; p < n; ++p) memory[p] += vol(have[p]);
      }
    }
    if (i == static_cast<int>(g_.layers.size()) - 1) {
      // The output goes to the coordinator.
      for (size_t p = 0; p + 1 < n; ++p) {
        if (vol(boxes[p]) > 0) {
          sent[p] += vol(boxes[p]);
          ++messages[p];
          received[n - 1] += vol(boxes[p]);
        }
      }
    }
    double comm = 0;
    double total_bytes = 0;
    for (size_t p = 0; p < n; ++p) {
      const double bytes = static_cast<double>(std::max(sent[p], received[p]));
      total_bytes += static_cast<double>(sent[p]);
      comm = std::max(comm, bytes * 8.0 / link_rate(static_cast<int>(p)) +
                                static_cast<double>(messages[p]) * link_latency(int(p)));
    }
    if (cluster_.topology != Topology::Switched) {
      const double shared =
          cluster_.topology == Topology::Star ? link_rate(devices_) : min_link_rate();
      comm = std::max(comm, total_bytes * 8.0 / shared);
    }
    double worst = 0;
    for (int d = 0; d < devices_; ++d) {
      memory[static_cast<size_t>(d)] += core::kDeviceRuntimeRamBytes;
      const int64_t ram = cluster_.devices[static_cast<size_t>(d)].ram_bytes;
      const double used =
          static_cast<double>(memory[static_cast<size_t>(d)]) / static_cast<double>(ram);
      if (memory[static_cast<size_t>(d)] > ram) {
        if (miss->layer < 0 ||
            memory[static_cast<size_t>(d)] - ram < miss->needed_bytes - miss->available_bytes) {
          *miss = NoFit{i, d, memory[static_cast<size_t>(d)], ram};
        }
      }
      worst = std::max(worst, used);
    }
    cost->memory = worst;
    cost->time = compute + comm;
    if (miss->layer >= 0) {
      if (!soft_ram_) return false;
      // Tiled runs may still bring it down: charge the overflow heavily
      // instead, so that layers that fit layer by layer still do.
      for (int d = 0; d < devices_; ++d) {
        const int64_t over =
            memory[static_cast<size_t>(d)] - cluster_.devices[static_cast<size_t>(d)].ram_bytes;
        if (over > 0) cost->time += static_cast<double>(over) * kOverflowSecondsPerByte;
      }
      *miss = NoFit{};
    }
    return true;
  }

  const std::vector<Box>& layout_before(int t, int i, int sp) {
    if (t == g_.input || sp < 0) return layout_on_path(t, 0, 0);
    return layout_on_path(t, i - 1, sp);
  }

  // Seconds participant p takes to compute `box` of layer `l`.
  double seconds(int p, const QLayer& l, const Box& box) const {
    if (box.empty()) return 0;
    const KernelWork w = box_kernel_work(g_, l, box);
    if (p == devices_) return static_cast<double>(w.work) / probe_.coordinator_spec.macs_per_second;
    return kernel_seconds(cluster_.devices[static_cast<size_t>(p)], l.record().kernel_name(l), w);
  }
  double link_rate(int p) const {
    return p == devices_ ? probe_.coordinator_spec.link_bits_per_second
                         : cluster_.devices[static_cast<size_t>(p)].link_bits_per_second;
  }
  double link_latency(int p) const {
    return p == devices_ ? probe_.coordinator_spec.link_latency_s
                         : cluster_.devices[static_cast<size_t>(p)].link_latency_s;
  }
  double min_link_rate() const {
    double r = std::numeric_limits<double>::infinity();
    for (const DeviceSpec& d : cluster_.devices) r = std::min(r, d.link_bits_per_second);
    return r;
  }

  const QGraph& g_;
  const ClusterSpec& cluster_;
  Objective objective_;
  bool soft_ram_;
  int devices_;
  int participants_;
  Plan probe_;
  std::vector<int> producer_;
  std::vector<int> last_consumer_;
  std::vector<std::vector<Candidate>> candidates_;
  std::vector<std::vector<Cost>> cost_;
  std::vector<std::vector<int>> back_;
  std::vector<std::vector<bool>> reachable_;
  std::vector<Box> input_layout_;
};

}  // namespace

ShareWeights speed_weights(const QGraph& graph, const ClusterSpec& cluster) {
  // Per layer, each device's rate for the layer's kernel over the whole
  // layer (its per-output, per-input and per-call costs spread over it): a
  // core without the DSP extension is several times slower at a 1x1
  // convolution than one with it, but much less so at a pooling layer.
  ShareWeights weights;
  for (const QLayer& l : graph.layers) {
    const char* kernel = l.record().kernel_name(l);
    KernelWork w = box_kernel_work(
        graph, l, core::full_box(graph.tensors[static_cast<size_t>(l.output)].shape));
    w.work = std::max<int64_t>(1, w.work);
    std::vector<double>& speeds = weights.emplace_back();
    for (const DeviceSpec& d : cluster.devices) {
      speeds.push_back(static_cast<double>(w.work) / kernel_seconds(d, kernel, w));
    }
  }
  return weights;
}

ShareWeights ram_weights(const QGraph& graph, const ClusterSpec& cluster) {
  std::vector<double> ram;
  for (const DeviceSpec& d : cluster.devices) ram.push_back(static_cast<double>(d.ram_bytes));
  return ShareWeights(graph.layers.size(), ram);
}

std::vector<LayerPlan> choose_paper(const QGraph& graph, const ClusterSpec& cluster,
                                    const ShareWeights& weights) {
  const int participants = cluster.device_count() + 1;
  const int coordinator = cluster.device_count();
  std::vector<double> carry(static_cast<size_t>(participants), 0.0);
  std::vector<LayerPlan> plans;
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const QLayer& l = graph.layers[i];
    const bool on_coordinator =
        l.op == OpType::Add || l.op == OpType::GlobalAveragePool ||
        (l.op == OpType::Reshape && i > 0 && plans.back().strategy == Strategy::Single);
    plans.push_back(on_coordinator
                        ? layer_plan(graph, static_cast<int>(i), Strategy::Single, coordinator,
                                     weights[i], participants, nullptr)
                        : layer_plan(graph, static_cast<int>(i), Strategy::Channel, 0, weights[i],
                                     participants, &carry, Rounding::Shares));
  }
  return plans;
}

std::vector<LayerPlan> choose_auto(const QGraph& graph, const ClusterSpec& cluster,
                                   const CoordinatorSpec& coordinator, Objective objective,
                                   const ShareWeights& weights,
                                   const std::vector<bool>& channel_only, NoFit* no_fit,
                                   bool soft_ram) {
  AutoPlanner planner(graph, cluster, coordinator, objective, weights, channel_only, soft_ram);
  const std::vector<int> path = planner.solve(no_fit);
  if (path.empty()) return {};
  // The chosen strategies again, now with rounding carried across layers so
  // every device's total work tracks its share.
  const int participants = cluster.device_count() + 1;
  std::vector<double> carry(static_cast<size_t>(participants), 0.0);
  std::vector<LayerPlan> plans;
  for (size_t i = 0; i < path.size(); ++i) {
    const auto& c = planner.candidate(static_cast<int>(i), path[i]);
    plans.push_back(c.strategy == Strategy::Single
                        ? c.plan
                        : layer_plan(graph, static_cast<int>(i), c.strategy, c.single, weights[i],
                                     participants, &carry));
  }
  return plans;
}

void balance_shares(const QGraph& graph, const ShareWeights& weights,
                    std::vector<LayerPlan>& layers) {
  if (layers.empty()) return;
  const size_t participants = layers[0].boxes.size();
  std::vector<double> carry(participants, 0.0);
  for (size_t i = layers.size(); i-- > 0;) {
    LayerPlan& lp = layers[i];
    const QLayer& l = graph.layers[i];
    const auto& shape = graph.tensors[static_cast<size_t>(l.output)].shape;
    std::vector<double> w(participants, 0.0);
    std::copy(weights[i].begin(), weights[i].end(), w.begin());
    double total = 0;
    for (double x : w) total += x;
    const double work = static_cast<double>(box_work(l, core::full_box(shape)));
    if (lp.strategy == Strategy::Fused) {
      std::vector<Box> fused;
      if (i + 1 < layers.size())
        fused = fused_boxes(graph, static_cast<int>(i), layers[i + 1].boxes);
      // A reader split into tiles has no fused bands: back to a spatial split.
      if (fused.empty()) {
        lp.strategy = Strategy::Spatial;
      } else {
        lp.boxes = std::move(fused);
      }
    }
    if ((lp.strategy == Strategy::Channel || lp.strategy == Strategy::Spatial) && total > 0) {
      lp.boxes = divide_output(lp.strategy, shape, w, 0, &carry, work, channel_group_of(l));
      continue;
    }
    // Shares of the work actually done (recomputed halos included), so the
    // carries keep summing to zero.
    double done = 0;
    for (size_t p = 0; p < participants; ++p) {
      done += static_cast<double>(box_work(l, lp.boxes[p]));
    }
    for (size_t p = 0; p < participants; ++p) {
      if (total <= 0 || w[p] <= 0) continue;
      carry[p] += done * w[p] / total - static_cast<double>(box_work(l, lp.boxes[p]));
    }
  }
}

}  // namespace mcusplit::plan
