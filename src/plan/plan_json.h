// The whole plan as JSON, for `mcusplit plan --dump PLAN` and for tools:
// every field of the plan, enums by name, boxes as
// {"c": [c0, c1], "y": [y0, y1], "x": [x0, x1]}, weight slices by range and
// bytes (never the constant data). docs/plan_format.md lists the keys.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "plan/plan.h"
#include "plan/plan_file.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// `graph` may be the full graph or a plan file's skeleton; it names tensors
// and layers. Without `hash` the plan hash is computed, which needs the full
// graph (a skeleton has no constants to slice: mcusplit::Error).
nlohmann::json plan_to_json(const Plan& plan, const quant::QGraph& graph,
                            std::optional<uint64_t> hash = std::nullopt);
// A parsed plan file, with the hash from its header.
nlohmann::json plan_to_json(const PlanFile& file);

// A box as {"c": [c0, c1], "y": [y0, y1], "x": [x0, x1]}.
nlohmann::json box_to_json(const core::Box& box);

}  // namespace mcusplit::plan
