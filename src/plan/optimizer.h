// Chooses a strategy and boxes for every layer.
//
// paper: the original paper's scheme: every convolution split by output
// channels and the fully connected layer by neurons across all devices in
// proportion to their speed, every device kept on its share (Rounding::
// Shares: the balanced plan); residual additions, global pooling and the
// flatten on the coordinator.
//
// auto: dynamic programming over the layers in order. A state is the
// strategy of the current layer (spatial rows, channels, or the whole layer
// on the device with the most RAM); a transition charges the layer's compute
// time (slowest device) and the time to move every input from the layout its
// producer chose on the best path to the boxes this layer reads. States whose
// estimated working set (inputs, output and skip tensors kept alive for
// later layers) exceeds a device's RAM are discarded. The objective is the
// sum of layer times (latency) or the largest fraction of a device's RAM
// used (memory, ties broken by time). fused_bands.h then turns spatial
// layers into fused bands where that pays.
#pragma once

#include <string>
#include <vector>

#include "plan/cluster.h"
#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

enum class Objective { Latency, Memory };

// Per layer, per device: the weight a device's share is proportional to
// (its MAC rate, lowered by the planner where its RAM binds).
using ShareWeights = std::vector<std::vector<double>>;

ShareWeights speed_weights(const quant::QGraph& graph, const ClusterSpec& cluster);
// Shares by RAM budget: what `--objective memory` starts from, so that
// every device fills the same fraction of its RAM.
ShareWeights ram_weights(const quant::QGraph& graph, const ClusterSpec& cluster);

std::vector<LayerPlan> choose_paper(const quant::QGraph& graph, const ClusterSpec& cluster,
                                    const ShareWeights& weights);

// Why auto found no layout: the layer, and the device that overflowed by the
// least in that layer's best candidate.
struct NoFit {
  int layer = -1;
  int device = -1;
  int64_t needed_bytes = 0;
  int64_t available_bytes = 0;
};

// Empty result and `no_fit` filled if some layer has no candidate that fits.
// Layers flagged in `channel_only` (per layer; may be empty) are only split
// by channels, so every device keeps just its slice of their weights. With
// `soft_ram`, a candidate over a device's RAM is charged for the bytes over
// instead of refused (tiled runs may still bring it down), so there is
// always a result.
std::vector<LayerPlan> choose_auto(const quant::QGraph& graph, const ClusterSpec& cluster,
                                   const CoordinatorSpec& coordinator, Objective objective,
                                   const ShareWeights& weights,
                                   const std::vector<bool>& channel_only, NoFit* no_fit,
                                   bool soft_ram = false);

// Re-divides every Channel and Spatial layer, last layer first, carrying each
// device's shortfall of work (against its weight's share of every layer,
// whatever the strategy: single and fused layers count with the work they
// actually give) into the next split, so that totals track the weights.
// Fused layers are re-derived from their (re-divided) reader.
void balance_shares(const quant::QGraph& graph, const ShareWeights& weights,
                    std::vector<LayerPlan>& layers);

}  // namespace mcusplit::plan
