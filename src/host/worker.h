// A device process of the distributed runtime over sockets (`mcusplit
// worker`): accepts the coordinator, takes its provisioning (the plan file
// and every device's address), builds its participant's DeviceProgram,
// refuses a plan whose arena exceeds its RAM, connects to the other devices,
// then runs one DeviceRuntime per Start until Stop. Every wait has a
// deadline, so a worker never hangs.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "host/cluster_key.h"

namespace mcusplit::host {

struct WorkerOptions {
  std::string listen = "127.0.0.1:0";  // port 0: the kernel picks one
  int64_t ram_bytes = 0;               // 0: unbounded
  std::chrono::milliseconds receive_timeout{2000};
  // Connecting, provisioning and meeting the peers.
  std::chrono::milliseconds setup_timeout{10000};
  // Waiting for the coordinator to connect, or for its next command.
  std::chrono::milliseconds idle_timeout{60000};
  // Coordinator sessions to serve before exiting (a coordinator that re-plans
  // after a failure opens a new one); a session ends with its Stop.
  int sessions = 1;
  // The cluster key (--key-file): images must carry its tag
  // (device/image_auth.h); none: tagged images are refused.
  std::optional<ClusterKey> key;
};

// Prints "listening HOST:PORT" on `announce` (flushed) once bound, then
// serves `sessions` coordinator sessions (each until its Stop) and returns;
// after the first, an idle timeout ends it quietly. Throws mcusplit::Error
// (exit code 1, or 2 for a bad --listen) on any failure, after telling the
// coordinator with an Error frame when the link still works.
void run_worker(const WorkerOptions& options, std::FILE* announce);

}  // namespace mcusplit::host
