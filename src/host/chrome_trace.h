// `mcusplit run --trace`: the spans of every participant in every inference
// as Chrome trace-event JSON (the "JSON Array/Object Format" that
// chrome://tracing and Perfetto open): one process, one track (thread) per
// participant, one complete ("X") event per span.
#pragma once

#include <string>
#include <vector>

#include "host/coordinator.h"
#include "plan/plan_file.h"

namespace mcusplit::host {

std::string chrome_trace_json(const plan::PlanFile& file,
                              const std::vector<InferenceTrace>& traces);

}  // namespace mcusplit::host
