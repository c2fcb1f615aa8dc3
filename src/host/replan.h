// Re-making a plan after a device was lost (`run --on-failure replan`).
#pragma once

#include "plan/plan.h"
#include "plan/plan_file.h"
#include "quant/qgraph.h"

namespace mcusplit::host {

// The plan `file` re-made for its cluster without device `lost`, with the
// same strategy, objective, coordinator and frame size; `graph` is the full
// model the plan was made from. Throws mcusplit::Error with exit code 3 if
// the model does not fit the devices left (exit code 1 if none is left).
plan::Plan replan_without(const plan::PlanFile& file, const quant::QGraph& graph, int lost);

}  // namespace mcusplit::host
