// Where RAM binds, tiled runs, placed twice: as the layers are and with
// every depthwise layer planned in place (its output over its input,
// LayerPlan::in_place), keeping the better plan. After the layer strategies
// are chosen, the
// device furthest over its RAM gets a tiled run (tiled_runs.h) around the
// step of its peak, MCUNetV2's patch-based inference inside every device's
// share. Candidate runs (up to kRunSpan layers either side of the peak, tile
// heights and widths from a fixed ladder, rows streamed or recomputed) are
// ranked by the work their recomputed halos or copied rows add (then by
// tile count), among those whose working set
// fits the device's arena budget less what it holds for other tensors there;
// the first few are built and timed (those whose programs outgrow a device
// image's tables are dropped), and the first that
// brings every device under its RAM over the run's steps is kept (else the
// one that lowers the peak most). With objective memory it goes on while
// the largest fraction of a device's RAM in use drops.
#pragma once

#include <cstdint>
#include <vector>

#include "plan/cluster.h"
#include "plan/optimizer.h"
#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// Changes `layers` (and `plan`, rebuilt from them) in place.
void tile_to_fit(const quant::QGraph& graph, const ClusterSpec& cluster,
                 const CoordinatorSpec& coordinator, int64_t max_payload_bytes, Objective objective,
                 std::vector<LayerPlan>& layers, Plan& plan);

}  // namespace mcusplit::plan
