#include "host/replan.h"

#include "common/error.h"
#include "plan/plan_checker.h"
#include "plan/planner.h"

namespace mcusplit::host {

plan::Plan replan_without(const plan::PlanFile& file, const quant::QGraph& graph, int lost) {
  plan::ClusterSpec cluster = file.plan.cluster;
  cluster.devices.erase(cluster.devices.begin() + lost);
  if (cluster.devices.empty()) {
    throw Error("no device is left to re-plan onto", kExitFailure);
  }
  plan::PlanOptions options;
  options.scheme = plan::parse_scheme(file.plan.strategy);
  options.objective = plan::parse_objective(file.plan.objective);
  options.coordinator = file.plan.coordinator_spec;
  options.max_payload_bytes = file.plan.max_payload_bytes;
  options.search_min_count = false;
  plan::Plan p = plan::make_plan(graph, cluster, options);
  plan::require_valid_plan(p, graph, "planner");
  return p;
}

}  // namespace mcusplit::host
