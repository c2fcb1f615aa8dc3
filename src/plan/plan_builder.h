// Turns per-layer boxes into a complete plan: for every participant the
// buffers it holds (produced boxes, received regions, skip tensors), the
// transfers between participants, its ordered program, its weight slices and
// its arena layout. Timing is left to the cost model (cost_model.h).
//
// Holding rule: a participant keeps one buffer per tensor, the bounding box
// of what it produces and what its layers read, unless the two are disjoint
// enough that two buffers and a local copy cost fewer bytes. The missing part
// of what it reads is received once, at the first step that reads it
// (transfers to the coordinator go right after the producing step, because
// the coordinator has no RAM budget and devices free their copy sooner).
#pragma once

#include <vector>

#include "plan/cluster.h"
#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// `layers[i].boxes` has one box per participant (devices, then the
// coordinator). Throws mcusplit::Error (exit code 1) if the boxes leave some
// element that a layer reads without a producer.
Plan build_plan(const quant::QGraph& graph, const ClusterSpec& cluster,
                const CoordinatorSpec& coordinator, std::vector<LayerPlan> layers);

}  // namespace mcusplit::plan
