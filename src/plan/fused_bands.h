// Fused bands: a spatial layer whose only reader is the next layer, itself
// split in row bands, can compute on every device exactly the rows (halo
// included) that the device's band of the next layer reads, recomputing the
// overlap instead of receiving it. That trades MACs for messages; the pass
// keeps a conversion only if the whole plan's estimated latency drops and
// every device stays within its RAM.
#pragma once

#include <cstdint>
#include <vector>

#include "plan/cluster.h"
#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// Builds and times a plan from layer boxes (build_plan + estimate_timing).
Plan build_and_time(const quant::QGraph& graph, const ClusterSpec& cluster,
                    const CoordinatorSpec& coordinator, int64_t max_payload_bytes,
                    std::vector<LayerPlan> layers);

// Boxes of a fused layer from the boxes its reader computes: what each band
// of the reader reads, widened to whole rows of all channels, with gaps
// between bands (rows no band reads, e.g. under a strided 1x1 reader)
// closed so that the boxes still cover the whole output. Empty if the
// reader is split into tiles narrower than its rows (no bands to fuse).
std::vector<core::Box> fused_boxes(const quant::QGraph& graph, int layer,
                                   const std::vector<core::Box>& reader_boxes);

// True if every device's arena and weights fit its RAM and flash.
bool fits(const Plan& plan);

void fuse_bands(const quant::QGraph& graph, const ClusterSpec& cluster,
                const CoordinatorSpec& coordinator, int64_t max_payload_bytes,
                std::vector<LayerPlan>& layers);

}  // namespace mcusplit::plan
