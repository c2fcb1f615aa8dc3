// One `mcusplit run`, in process: opens and checks the plan (and the model
// it was made from), starts the devices the request names, runs the
// inferences through the coordinator, re-plans onto the devices left when
// one is lost and asked to, and checks that every device shut down cleanly.
// The CLI parses the command line into a RunRequest and prints the outcome;
// tests call this directly.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "host/cluster_key.h"
#include "host/coordinator.h"
#include "host/latency_summary.h"
#include "host/run_request.h"
#include "plan/plan_file.h"
#include "quant/qgraph.h"

namespace mcusplit::host {

struct RunOutcome {
  DistributedRun run;
  bool star = false;  // the topology it ran in: star, else switched
  LatencySummary latency;
};

class RunSession {
 public:
  // Checks the request against itself and the plan. Throws mcusplit::Error:
  // bad input (exit code 2) for an unreadable or corrupt plan, a model that
  // is not the plan's, or modes that do not go together.
  explicit RunSession(RunRequest request);

  // The plan to run; after run(), the plan that ran (re-made if a device was
  // lost and the request said OnFailure::Replan).
  const plan::PlanFile& plan() const { return file_; }
  const RunRequest& request() const { return request_; }

  // Runs `input` (the int8 graph input, NHWC) request().repeat times.
  // Throws mcusplit::Error (exit code 1, 3 if a re-made plan does not fit)
  // naming the device when one fails, with what emulated devices said last.
  RunOutcome run(const std::vector<int8_t>& input);

 private:
  CoordinatorOptions coordinator_options() const;

  RunRequest request_;
  std::optional<ClusterKey> key_;  // read from request_.key_file
  std::string plan_bytes_;         // file_ as read, or as re-made
  plan::PlanFile file_;
  quant::QGraph full_graph_;  // the model, when given
};

}  // namespace mcusplit::host
