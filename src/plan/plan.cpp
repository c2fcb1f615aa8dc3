#include "plan/plan.h"

#include <algorithm>

namespace mcusplit::plan {

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::Single:
      return "single";
    case Strategy::Channel:
      return "channel";
    case Strategy::Spatial:
      return "spatial";
    case Strategy::Fused:
      return "fused";
    case Strategy::Tiled:
      return "tiled";
  }
  return "unknown";
}

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::LoadInput:
      return "load_input";
    case OpKind::Send:
      return "send";
    case OpKind::Receive:
      return "receive";
    case OpKind::Copy:
      return "copy";
    case OpKind::Compute:
      return "compute";
    case OpKind::StoreOutput:
      return "store_output";
  }
  return "unknown";
}

int64_t Plan::max_peak_ram_bytes() const {
  int64_t peak = 0;
  for (const ParticipantPlan& p : participants) {
    if (!p.coordinator) peak = std::max(peak, p.peak_ram_bytes());
  }
  return peak;
}

int Plan::peak_layer(int p) const {
  const auto& live = participants[static_cast<size_t>(p)].estimate.live_bytes;
  const int step = static_cast<int>(std::max_element(live.begin(), live.end()) - live.begin());
  return std::min(step, static_cast<int>(layers.size()) - 1);
}

int64_t Plan::total_bytes_transferred() const {
  int64_t total = 0;
  for (const ParticipantPlan& p : participants) total += p.estimate.bytes_sent;
  return total;
}

std::vector<int> step_receive_peers(const ParticipantPlan& pp, size_t first, size_t* end) {
  std::vector<int> peers;
  size_t i = first;
  for (; i < pp.ops.size() && pp.ops[i].step == pp.ops[first].step; ++i) {
    const PlanOp& op = pp.ops[i];
    if (op.kind == OpKind::Receive &&
        std::find(peers.begin(), peers.end(), op.peer) == peers.end()) {
      peers.push_back(op.peer);
    }
  }
  *end = i;
  return peers;
}

}  // namespace mcusplit::plan
