// The cost model (docs/planner.md): replays every participant's program in
// step order and estimates when each op starts and ends.
//
// - Compute: the participant's time for the op's kernel, its work units
//   (layer_geometry.h box_work), output values and one call (cluster.h
//   kernel_seconds).
// - A transfer of B bytes is ceil(B / max_payload) frames; on the wire it
//   takes latency + (B + frames * the link's frame overhead) * 8 / bandwidth
//   (a sender whose link waits for an Ack after every `window` frames also
//   pays, per window, the store-and-forward crossing of the path's other
//   links and the Ack's round trip), and
//   it starts when the sender has finished its earlier ops and every link it
//   needs is free. The links it needs depend on the topology:
//   switched: the sender's uplink and the receiver's downlink (full duplex,
//     so disjoint pairs overlap); star: additionally the coordinator's
//     downlink and uplink, as every frame is relayed (store and forward of a
//     frame, so two latencies); bus: one shared medium for every transfer.
//   The rate is the slowest link on the path.
// - Sends do not stall their sender (DMA); a receive waits for its data.
// The estimated latency is the time the coordinator holds the whole output.
#pragma once

#include <cstdint>

#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// What an op keeps its participant busy with: the kernel (a name
// kernels::OpRegistration's kernel_name returns; "" for a local Copy) and
// its work units and values written and read, which the participant's costs
// for that kernel turn into seconds (cluster.h kernel_seconds). Nothing for
// sends and receives.
struct OpWork {
  const char* kernel = "";
  KernelWork counts;  // one call for a Compute or a Copy
};
OpWork op_work(const quant::QGraph& graph, const ParticipantPlan& pp, const PlanOp& op);
// What one call computing `out_box` of `layer` does: its work units, values
// written and read, output positions (an empty box: nothing, no call).
KernelWork box_kernel_work(const quant::QGraph& graph, const quant::QLayer& layer,
                           const core::Box& out_box);
// The cycles the device takes for that work (its seconds for the kernel at
// its clock); 0 if the device states no clock.
double work_cycles(const DeviceSpec& device, const OpWork& work);

// Fills plan.timeline, plan.estimated_latency_s and every participant's
// estimate.compute_s and finish_s.
void estimate_timing(Plan& plan, const quant::QGraph& graph);

// Seconds one transfer of `bytes` occupies its links (no queueing).
double transfer_seconds(const Plan& plan, int src, int dst, int64_t bytes);

// A transfer's times from its start: in all, until its last frame has
// arrived, and how long it keeps each link on its way busy (the sender's,
// the receiver's, a relaying coordinator's). Over streaming links all are the
// same (the path is busy throughout). On acknowledged links (a device's
// window_frames > 0) a link is busy only while it carries the frames, at its
// own rate, except that a sender that waits for Acks holds its own link
// through the waits.
struct TransferTime {
  double total_s = 0;
  double arrived_s = 0;
  double sender_link_s = 0;
  double receiver_link_s = 0;
  double relay_link_s = 0;
};
TransferTime transfer_time(const Plan& plan, int src, int dst, int64_t bytes);

}  // namespace mcusplit::plan
