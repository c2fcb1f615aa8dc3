// What `mcusplit run` prints of a run: the --json document, or the summary
// and the per-device table.
#pragma once

#include <nlohmann/json.hpp>

#include "host/run_session.h"

namespace mcusplit::cli {

// The output's top-1, latencies and per-device figures (with -icount, each
// device's instructions per layer).
nlohmann::json run_json(const host::RunSession& session, const host::RunOutcome& outcome);

// The summary line, the top-1 and one table row per participant.
void print_run_table(const host::RunSession& session, const host::RunOutcome& outcome);

}  // namespace mcusplit::cli
