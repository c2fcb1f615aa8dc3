#include "plan/cost_model.h"

#include <algorithm>
#include <string>
#include <vector>

#include "plan/layer_geometry.h"

namespace mcusplit::plan {

namespace {

struct LinkOf {
  double bits_per_second = 0;
  double latency_s = 0;
};

LinkOf link_of(const Plan& plan, int p) {
  if (p == plan.coordinator()) {
    return {plan.coordinator_spec.link_bits_per_second, plan.coordinator_spec.link_latency_s};
  }
  const DeviceSpec& d = plan.cluster.devices[static_cast<size_t>(p)];
  return {d.link_bits_per_second, d.link_latency_s};
}

// Seconds participant p takes for `w`.
double seconds_of(const Plan& plan, int p, const OpWork& w) {
  if (p == plan.coordinator()) {
    return static_cast<double>(w.counts.work) / plan.coordinator_spec.macs_per_second;
  }
  return kernel_seconds(plan.cluster.devices[static_cast<size_t>(p)], w.kernel, w.counts);
}

const DeviceSpec* device_of(const Plan& plan, int p) {
  if (p == plan.coordinator()) return nullptr;
  return &plan.cluster.devices[static_cast<size_t>(p)];
}

bool relayed(const Plan& plan, int src, int dst) {
  return plan.cluster.topology == Topology::Star && src != plan.coordinator() &&
         dst != plan.coordinator();
}

// The device end of a transfer: the sender unless it is the coordinator.
const DeviceSpec* device_end(const Plan& plan, int src, int dst) {
  return src != plan.coordinator() ? device_of(plan, src) : device_of(plan, dst);
}

// The transfer goes over acknowledged links (its device end's frames wait
// for Acks: the Ethernet firmware), which are busy only while they carry.
bool acknowledged(const Plan& plan, int src, int dst) {
  const DeviceSpec* d = device_end(plan, src, dst);
  return d != nullptr && d->link_window_frames > 0;
}

// Link resources: uplink and downlink of each participant, plus the bus.
class Links {
 public:
  explicit Links(int participants)
      : up_(static_cast<size_t>(participants), 0.0),
        down_(static_cast<size_t>(participants), 0.0) {}

  double free_at(const Plan& plan, int src, int dst) const {
    if (plan.cluster.topology == Topology::Bus) return bus_;
    double t = std::max(up_[static_cast<size_t>(src)], down_[static_cast<size_t>(dst)]);
    // On acknowledged links the coordinator relays each frame in a moment
    // between the devices' waits: its links are not what a relayed
    // transfer waits for (its own transfers still book them).
    if (relayed(plan, src, dst) && !acknowledged(plan, src, dst)) {
      const auto c = static_cast<size_t>(plan.coordinator());
      t = std::max({t, up_[c], down_[c]});
    }
    return t;
  }

  // Each link on the way for as long as the transfer keeps it busy
  // (TransferTime).
  void occupy(const Plan& plan, int src, int dst, double start, const TransferTime& t) {
    if (plan.cluster.topology == Topology::Bus) {
      bus_ = start + t.total_s;
      return;
    }
    up_[static_cast<size_t>(src)] = start + t.sender_link_s;
    down_[static_cast<size_t>(dst)] = start + t.receiver_link_s;
    if (relayed(plan, src, dst)) {
      const auto c = static_cast<size_t>(plan.coordinator());
      up_[c] = start + t.relay_link_s;
      down_[c] = start + t.relay_link_s;
    }
  }

 private:
  std::vector<double> up_;
  std::vector<double> down_;
  double bus_ = 0;
};

// The op writes its output over its input 0's bytes (plan_builder.cpp
// decides it; the checker verifies it).
bool computes_in_place(const ParticipantPlan& pp, const PlanOp& op) {
  if (op.kind != OpKind::Compute || op.inputs.empty() || op.inputs[0] < 0) return false;
  const PlanBuffer& in = pp.buffers[static_cast<size_t>(op.inputs[0])];
  const PlanBuffer& out = pp.buffers[static_cast<size_t>(op.dst_buffer)];
  return in.offset < out.offset + out.bytes() && out.offset < in.offset + in.bytes();
}

// A Credit frame's payload (docs/protocol.md, "Message types").
constexpr int64_t kCreditPayloadBytes = 4;

// On entering a step, a participant grants each peer it receives from in
// that step credit for those bytes, one Credit frame per peer, before any op
// of the step (device_runtime.cpp). Over a streaming link that costs next to
// nothing and is not charged; a participant whose link waits for an Ack
// after each window of frames is busy sending them, and its peers may send
// only once their credit arrived.
void grant_credit(const Plan& plan, int step, const std::vector<size_t>& next_op,
                  std::vector<double>& clock, Links& links,
                  std::vector<std::vector<double>>& credit_at) {
  const int n = static_cast<int>(plan.participants.size());
  for (int q = 0; q < n; ++q) {
    const DeviceSpec* d = device_of(plan, q);
    if (d == nullptr || d->link_window_frames <= 0) continue;
    const ParticipantPlan& pp = plan.participants[static_cast<size_t>(q)];
    const size_t first = next_op[static_cast<size_t>(q)];
    if (first >= pp.ops.size() || pp.ops[first].step != step) continue;
    size_t end = 0;
    const std::vector<int> peers = step_receive_peers(pp, first, &end);
    double& now = clock[static_cast<size_t>(q)];
    for (int p : peers) {
      const double start = std::max(now, links.free_at(plan, q, p));
      const TransferTime t = transfer_time(plan, q, p, kCreditPayloadBytes);
      links.occupy(plan, q, p, start, t);
      credit_at[static_cast<size_t>(p)][static_cast<size_t>(q)] = start + t.arrived_s;
      now = start + t.total_s;
    }
  }
}

}  // namespace

OpWork op_work(const quant::QGraph& graph, const ParticipantPlan& pp, const PlanOp& op) {
  const int64_t outputs = op.box.volume();
  // A local copy keeps the participant busy as a Reshape would.
  if (op.kind == OpKind::Copy) {
    return {"",
            {copy_work(outputs), outputs, outputs, int64_t{op.box.height()} * op.box.width(), 1}};
  }
  if (op.kind != OpKind::Compute) return {};
  const quant::QLayer& layer = graph.layers[static_cast<size_t>(op.layer)];
  OpWork w{layer.record().kernel_name(layer), box_kernel_work(graph, layer, op.box)};
  // A layer computed in place copies each output plane once more.
  if (computes_in_place(pp, op)) w.counts.work += copy_work(outputs);
  return w;
}

KernelWork box_kernel_work(const quant::QGraph& graph, const quant::QLayer& layer,
                           const core::Box& out_box) {
  if (out_box.empty()) return {};
  return {box_work(layer, out_box), out_box.volume(), box_input_values(graph, layer, out_box),
          int64_t{out_box.height()} * out_box.width(), 1};
}

double work_cycles(const DeviceSpec& device, const OpWork& work) {
  if (device.clock_hz <= 0) return 0;
  return kernel_seconds(device, work.kernel, work.counts) * device.clock_hz;
}

TransferTime transfer_time(const Plan& plan, int src, int dst, int64_t bytes) {
  const LinkOf a = link_of(plan, src);
  const LinkOf b = link_of(plan, dst);
  const bool relay = relayed(plan, src, dst);
  double bits_per_second = std::min(a.bits_per_second, b.bits_per_second);
  double latency = std::max(a.latency_s, b.latency_s);
  // Seconds per byte crossing every link of the path in turn.
  double path_s_per_byte = 8.0 / a.bits_per_second + 8.0 / b.bits_per_second;
  if (relay) {
    const LinkOf c = link_of(plan, plan.coordinator());
    bits_per_second = std::min(bits_per_second, c.bits_per_second);
    latency = a.latency_s + b.latency_s;
    path_s_per_byte += 8.0 / c.bits_per_second;
  }
  // Frames are framed as the device end's link frames them (the
  // coordinator speaks its peer's link); the sender's window decides the pace.
  const DeviceSpec* end = device_end(plan, src, dst);
  const int64_t overhead = end != nullptr ? end->link_frame_overhead_bytes : kTcpFrameOverheadBytes;
  const DeviceSpec* sender = device_of(plan, src);
  const int64_t payload = std::max<int64_t>(1, plan.max_payload_bytes);
  const int64_t frames = (bytes + payload - 1) / payload;
  const double wire_bytes = static_cast<double>(bytes + frames * overhead);
  const double streamed = wire_bytes * 8.0 / bits_per_second;
  // An acknowledged link (the device end's frames wait for Acks) is busy
  // at its own rate only while it carries frames; over a streaming link the
  // whole path is busy for the whole transfer.
  if (sender == nullptr || sender->link_window_frames <= 0) {
    const double t = latency + streamed;
    if (!acknowledged(plan, src, dst)) return {t, t, t, t, t};
    const double bits = wire_bytes * 8.0;
    return {t, t, bits / a.bits_per_second, bits / b.bits_per_second,
            relay ? bits / link_of(plan, plan.coordinator()).bits_per_second : 0.0};
  }
  // A sender that waits for an Ack after every `window` frames: each group
  // of frames crosses the slowest link back to back, its last frame then
  // the other links of the path one after the other (store and forward: the
  // switch, the relaying coordinator), and the Ack comes back the same way.
  const int64_t window = sender->link_window_frames;
  const int64_t groups = (frames + window - 1) / window;
  const double frame_bytes = static_cast<double>(std::min(bytes, payload) + overhead);
  const double ack_bytes = static_cast<double>(overhead + 4);  // an Ack's u32 payload
  const double frame_path_s = frame_bytes * path_s_per_byte;   // across every link in turn
  const double frame_bottleneck_s = frame_bytes * 8.0 / bits_per_second;  // in `streamed`
  const double ack_s = ack_bytes * path_s_per_byte;
  const double total = latency + streamed +
                       static_cast<double>(groups) * (frame_path_s - frame_bottleneck_s + ack_s +
                                                      sender->link_ack_round_trip_s);
  // Another link is busy only while it carries the frames and Acks, at its
  // own rate, between the sender's waits.
  const double carried_bits = (wire_bytes + static_cast<double>(groups) * ack_bytes) * 8.0;
  const double relay_s =
      relay ? carried_bits / link_of(plan, plan.coordinator()).bits_per_second : 0.0;
  // The last frame has arrived before its Ack comes back.
  return {total, total - sender->link_ack_round_trip_s - ack_s, total,
          carried_bits / b.bits_per_second, relay_s};
}

double transfer_seconds(const Plan& plan, int src, int dst, int64_t bytes) {
  return transfer_time(plan, src, dst, bytes).total_s;
}

void estimate_timing(Plan& plan, const quant::QGraph& graph) {
  const int n = static_cast<int>(plan.participants.size());
  std::vector<double> clock(static_cast<size_t>(n), 0.0);
  std::vector<size_t> next_op(static_cast<size_t>(n), 0);
  Links links(n);
  plan.timeline.clear();
  for (ParticipantPlan& p : plan.participants) p.estimate.compute_s = 0;

  // Arrival time of each transfer, matched FIFO per (src, dst) pair.
  std::vector<std::vector<std::vector<double>>> arrivals(
      static_cast<size_t>(n), std::vector<std::vector<double>>(static_cast<size_t>(n)));
  std::vector<std::vector<size_t>> taken(static_cast<size_t>(n),
                                         std::vector<size_t>(static_cast<size_t>(n), 0));

  // When a sender may start its sends of the step to each receiver: once
  // the receiver's credit for them has arrived (window-limited links).
  std::vector<std::vector<double>> credit_at(static_cast<size_t>(n),
                                             std::vector<double>(static_cast<size_t>(n), 0.0));

  for (int step = 0; step < plan.step_count(); ++step) {
    grant_credit(plan, step, next_op, clock, links, credit_at);
    // All sends of the step first (ops are ordered sends, copies, receives,
    // computes within a step), in participant order.
    for (int p = 0; p < n; ++p) {
      const auto& ops = plan.participants[static_cast<size_t>(p)].ops;
      for (size_t i = next_op[static_cast<size_t>(p)]; i < ops.size() && ops[i].step == step; ++i) {
        const PlanOp& op = ops[i];
        if (op.kind != OpKind::Send) continue;
        const double start =
            std::max({clock[static_cast<size_t>(p)], links.free_at(plan, p, op.peer),
                      credit_at[static_cast<size_t>(p)][static_cast<size_t>(op.peer)]});
        const TransferTime t = transfer_time(plan, p, op.peer, op.box.volume());
        const double end = start + t.arrived_s;  // its last Ack may still be coming
        links.occupy(plan, p, op.peer, start, t);
        arrivals[static_cast<size_t>(p)][static_cast<size_t>(op.peer)].push_back(end);
        plan.timeline.push_back(TimelineEvent{p, OpKind::Send, step, op.peer, start, end});
        plan.timeline.push_back(TimelineEvent{op.peer, OpKind::Receive, step, p, start, end});
      }
    }
    for (int p = 0; p < n; ++p) {
      ParticipantPlan& pp = plan.participants[static_cast<size_t>(p)];
      double& now = clock[static_cast<size_t>(p)];
      size_t& i = next_op[static_cast<size_t>(p)];
      for (; i < pp.ops.size() && pp.ops[i].step == step; ++i) {
        const PlanOp& op = pp.ops[i];
        if (op.kind == OpKind::Receive) {
          size_t& k = taken[static_cast<size_t>(op.peer)][static_cast<size_t>(p)];
          now = std::max(now, arrivals[static_cast<size_t>(op.peer)][static_cast<size_t>(p)][k++]);
        } else if (op.kind == OpKind::Compute || op.kind == OpKind::Copy) {
          const OpWork w = op_work(graph, pp, op);
          const double seconds = seconds_of(plan, p, w);
          plan.timeline.push_back(TimelineEvent{p, OpKind::Compute, step, -1, now, now + seconds});
          now += seconds;
          pp.estimate.compute_s += seconds;
        }
      }
    }
  }
  for (int p = 0; p < n; ++p) {
    plan.participants[static_cast<size_t>(p)].estimate.finish_s = clock[static_cast<size_t>(p)];
  }
  plan.estimated_latency_s = clock[static_cast<size_t>(plan.coordinator())];
}

}  // namespace mcusplit::plan
