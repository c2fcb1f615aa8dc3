// The planner's HTML report (`mcusplit plan ... --report REPORT.html`): one
// self-contained HTML5 page (inline CSS and SVG only, nothing fetched) that
// shows a plan's participants, peak RAM against budget, per-step memory
// profile, layer table, estimated timeline and traffic matrix.
#pragma once

#include <string>

#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// The report as one HTML document. Every figure comes from `plan`; `graph`
// (the QGraph the plan was made for) supplies layer names, operators, output
// shapes and MACs. Missing or inconsistent parts of either are shown as such,
// never thrown on. All user text (model, device and layer names) is escaped.
std::string render_plan_report(const Plan& plan, const quant::QGraph& graph);

// Writes render_plan_report atomically: a temporary file beside `path`,
// renamed over it. Throws mcusplit::Error naming `path` if it cannot, leaving
// no temporary behind.
void write_plan_report(const Plan& plan, const quant::QGraph& graph, const std::string& path);

}  // namespace mcusplit::plan
