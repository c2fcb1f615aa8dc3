// An independent checker of plans: it re-derives everything a plan must
// satisfy from the plan's data and the int8 graph alone, without the
// planner's code or the kernels' receptive-field functions, so a bug in the
// planner's geometry cannot hide itself.
//
// It checks the structure (participants, boxes, op indices, step order), that
// every output element of every layer is computed, the dataflow (it runs every
// participant's program on a simulated arena whose bytes carry tags "element k
// of tensor t", so reading a byte the plan never filled or has overwritten
// shows), that the coordinator ends with the whole graph output, the arenas
// (no two live buffers share a byte, RAM and flash budgets, weight slices) and
// the estimates that follow from the ops (bytes sent and received, live bytes).
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// Every problem found, each naming participant, step, op and layer or tensor;
// empty when the plan is valid for `graph`.
std::vector<std::string> check_plan(const Plan& plan, const quant::QGraph& graph);

// Throws mcusplit::Error (kExitFailure) listing the first few problems unless
// check_plan finds none. `origin` prefixes the message.
void require_valid_plan(const Plan& plan, const quant::QGraph& graph,
                        const std::string& origin = "plan");

}  // namespace mcusplit::plan
