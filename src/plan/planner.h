// The planner's entry point: an int8 graph and a cluster in, a complete plan
// out, or an mcusplit::Error with exit code 3 naming the layer and device
// that do not fit, the bytes needed and available, and the smallest count of
// that device's type that would fit.
//
// Resource awareness: shares start proportional to device speed. When the
// built plan leaves a device over its RAM, tiled runs go where it peaks
// (tiling_pass.h); if that is not enough, that device's share of the layers
// around its peak shrinks in proportion and the layers are chosen again; when
// it is over its flash, it drops out of the layers with its largest weight
// slices. A few rounds settle it or prove it infeasible. RAM is the device's
// whole RAM: the arena and the runtime's own share (core/device_runtime_ram.h).
#pragma once

#include <cstdint>
#include <string>

#include "plan/cluster.h"
#include "plan/optimizer.h"
#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

enum class Scheme { Auto, Paper };

struct PlanOptions {
  Scheme scheme = Scheme::Auto;
  Objective objective = Objective::Latency;
  CoordinatorSpec coordinator;
  int64_t max_payload_bytes = 1372;  // docs/protocol.md
  bool fuse = true;                  // fused bands (auto only)
  bool tile = true;                  // tiled runs where RAM binds (auto only)
  bool search_min_count = true;      // on failure, look for the count that fits
};

Scheme parse_scheme(const std::string& text);
Objective parse_objective(const std::string& text);
const char* scheme_name(Scheme s);
const char* objective_name(Objective o);

// Plan::model_name, model_hash (FNV-1a of serialize_mq), strategy and
// objective are filled too.
Plan make_plan(const quant::QGraph& graph, const ClusterSpec& cluster, const PlanOptions& options);

}  // namespace mcusplit::plan
