// Cluster files (JSON, docs/cluster.md): a topology and a list of devices,
// each from a built-in profile, explicit figures, or a profile with
// overrides; "count" repeats an entry.
#pragma once

#include <string>

#include "plan/cluster.h"

namespace mcusplit::plan {

// Throws mcusplit::Error (exit code 2) with a one-line message naming the
// file and the problem: unreadable file, malformed JSON (with line and
// column), unknown key, unknown profile or topology, a field missing where
// no profile supplies it, zero or negative sizes and rates, no devices,
// duplicate names.
ClusterSpec read_cluster_file(const std::string& path);

// The same from JSON text; `origin` names the source in messages, and files
// it names ("calibration") are relative to `base_dir`.
ClusterSpec parse_cluster_json(const std::string& text, const std::string& origin,
                               const std::string& base_dir = "");

}  // namespace mcusplit::plan
