// The plan report's timeline and traffic charts (inline SVG, styled by the
// report's CSS).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan::report {

// Gantt chart of plan.timeline: one row per participant, Compute / Send /
// Receive intervals in distinct colours, x in ms, a tooltip per interval.
std::string svg_timeline(const Plan& plan, const quant::QGraph& graph);

// bytes[from][to]: payload bytes of every Send op of `from` addressed to `to`
// (participants x participants; Sends to unknown peers are ignored).
std::vector<std::vector<int64_t>> traffic_matrix(const Plan& plan);

// Heatmap of traffic_matrix: rows send, columns receive.
std::string svg_traffic_matrix(const Plan& plan);

}  // namespace mcusplit::plan::report
