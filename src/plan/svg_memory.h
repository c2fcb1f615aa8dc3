// The plan report's memory charts (inline SVG, styled by the report's CSS).
#pragma once

#include <string>

#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan::report {

// Share of the RAM budget above which a device's peak is flagged ("warn");
// above the budget itself it is also "over".
inline constexpr double kRamWarnFraction = 0.9;

// "", " warn" or " warn over": CSS classes for a peak against a budget (0 = unbounded).
std::string ram_warn_classes(int64_t peak_bytes, int64_t budget_bytes);

// Horizontal bars: each device's peak RAM (arena_bytes), a marker at its budget.
std::string svg_ram_bars(const Plan& plan);

// Bytes live at each step per device (estimate.live_bytes), one polyline per
// device, with the smallest device budget as a dashed line.
std::string svg_memory_profile(const Plan& plan, const quant::QGraph& graph);

// "step 3 (conv_3)"; the last step is the output collection.
std::string step_label(const quant::QGraph& graph, int step);

}  // namespace mcusplit::plan::report
