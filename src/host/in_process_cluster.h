// Runs a whole plan in one process: one thread per participant, talking
// through an InMemoryNetwork. Each device runs the device session the
// firmware and workers run (device/device_session.h) over its own arena; the
// coordinator starts them, runs its own DeviceRuntime and stops them. The
// test bed for bit-exactness against the single-device executor and for the
// plan's memory and traffic figures.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "host/device_slice.h"
#include "plan/plan.h"
#include "plan/plan_file.h"
#include "quant/qgraph.h"

namespace mcusplit::host {

struct ClusterOptions {
  // How long a receive waits before the run fails instead of hanging.
  std::chrono::milliseconds receive_timeout{10000};
};

// What one participant measured during the run.
struct ParticipantRun {
  std::string name;
  bool coordinator = false;
  int64_t arena_bytes = 0;       // planned
  int64_t high_water_bytes = 0;  // measured: highest arena byte written + 1
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
  int64_t messages_sent = 0;
  int64_t messages_received = 0;
  int64_t frames_sent = 0;  // Data frames
  int64_t frames_received = 0;
  std::vector<double> layer_compute_s;  // per graph layer; 0 where it computes nothing
  double compute_s = 0;                 // sum of layer_compute_s
  double wall_s = 0;                    // its whole program
};

struct ClusterRun {
  std::vector<int8_t> output;  // int8 NHWC graph output
  std::vector<ParticipantRun> participants;
  double wall_s = 0;
};

class InProcessCluster {
 public:
  // Builds every participant's DeviceSlice. Throws mcusplit::Error if one
  // cannot be built.
  explicit InProcessCluster(plan::PlanFile file, ClusterOptions options = {});

  // Runs every participant once on `input` (int8 NHWC, the graph input's
  // size). Throws mcusplit::Error (exit code 1) naming the participant, op
  // and cause if any participant fails (a timed-out receive names what it
  // waited for), or if messages are left undelivered.
  ClusterRun run(const std::vector<int8_t>& input) const;

  const plan::PlanFile& file() const { return file_; }
  const DeviceSlice& slice(int participant) const {
    return slices_.at(static_cast<size_t>(participant));
  }

 private:
  plan::PlanFile file_;
  ClusterOptions options_;
  std::vector<DeviceSlice> slices_;
};

// provision_plan, then one InProcessCluster run.
ClusterRun run_in_process(const plan::Plan& plan, const quant::QGraph& full_graph,
                          const std::vector<int8_t>& input, ClusterOptions options = {});

}  // namespace mcusplit::host
