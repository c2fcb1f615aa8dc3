// The coordinator of the distributed runtime over sockets (`mcusplit run`):
// connects to one worker per planned device, provisions them (the plan file
// and every device's address), runs the coordinator participant's own
// program (LoadInput, sends, receives, StoreOutput, and in the paper's
// scheme its compute) with a SocketTransport, and collects every worker's
// Result and Stats per inference. Stop shuts the workers down at the end, or
// at the first failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "host/cluster_key.h"
#include "host/link_layer.h"
#include "host/op_spans.h"
#include "host/socket_io.h"
#include "plan/plan_file.h"

namespace mcusplit::host {

struct CoordinatorOptions {
  std::chrono::milliseconds receive_timeout{2000};
  std::chrono::milliseconds setup_timeout{10000};
  int repeat = 1;            // inferences
  bool keep_traces = false;  // DistributedRun::traces: every inference's spans (--trace)
  // Star: every frame between devices goes through the coordinator (the
  // original paper's testbed); switched: devices connect to each other.
  bool star = false;
  // The devices already hold their device images (emulated MCUs booted with
  // them): no Provision message. The coordinator connects without a greeting,
  // then a Ping per device is answered by a Pong carrying the plan hash it
  // holds (checked), or by an Error (a device refusing the plan), which ends
  // the run naming the device.
  bool preprovisioned = false;
  // Every device link is a serial line (SocketTransport::set_serial): bytes
  // between frames (a firmware's banner) are skipped. Forces the star
  // topology unless provision_addresses says otherwise: a device has one
  // link, to the coordinator. Without preprovisioned, the coordinator
  // connects without a greeting, sends each device its Provision message,
  // then greets it as a preprovisioned one (the device firmware's
  // provisioning over the link).
  bool serial_links = false;
  // The Provision message's address list, if not the workers' addresses
  // (switched) or none (star): on Ethernet, per participant the MAC its
  // frames go to (host/ethernet_addresses.h).
  std::optional<std::vector<std::string>> provision_addresses;
  // The link layer between the coordinator's sockets and the devices, if it
  // has figures and failures of its own (the Ethernet bridge): its
  // retransmissions and relaying go into the reports, a link it declared
  // dead is named as the cause of a failure, and devices are named by their
  // address on it. Not owned; null: none.
  LinkLayer* link_layer = nullptr;
  // The cluster key: every Provision message's image carries its tag
  // (device/image_auth.h), and, if tag_frames, every frame on every link
  // (SocketTransport::set_key). None: untagged images and frames.
  std::optional<ClusterKey> key;
  // False for links whose far end cannot check frame tags: emulated devices
  // on Ethernet, whose bridge acknowledges frames for the coordinator.
  bool tag_frames = true;
};

// One participant's figures from the last inference, next to the plan's.
struct ParticipantReport {
  std::string name;
  std::string address;  // "" for the coordinator
  bool coordinator = false;
  int64_t arena_bytes = 0;  // planned
  int64_t high_water_bytes = 0;
  int64_t bytes_sent = 0;  // payload bytes
  int64_t bytes_received = 0;
  int64_t planned_bytes_sent = 0;
  int64_t planned_bytes_received = 0;
  int64_t frames_sent = 0;  // every type (a worker: its Data frames, Result and Stats)
  int64_t frames_received = 0;
  int64_t data_frames_sent = 0;  // Data frames only, next to planned_data_frames_sent
  int64_t credit_frames_sent = 0;
  int64_t planned_credit_frames_sent = 0;
  int64_t frames_relayed = 0;  // the coordinator in the star topology
  int64_t bytes_relayed = 0;
  // Data frames the plan's Send ops take at its max payload.
  int64_t planned_data_frames_sent = 0;
  int64_t stats_frames_sent = 0;     // a worker's Stats frames (span records, then the summary)
  int64_t serial_bytes_dropped = 0;  // serial links: garbage skipped on its link since connecting
  double total_s = 0;                // its whole program
  double compute_s = 0;              // in Compute ops
  double wait_s = 0;                 // in Receive and Send ops (waiting for data or credit)
  StepTimes steps;                   // per plan step (layer i = step i; the last: output)
  // Firmware only: the clock ticks of each Compute op, and the clock's rate
  // (0: none sent). Under QEMU -icount they count instructions (op_spans.h).
  std::vector<ComputeClock> compute_clocks;
  uint64_t clock_hz = 0;
  // Lossy links (Ethernet): frames the device sent again plus those the
  // link layer sent it again; frames it received twice and dropped; link
  // frames it dropped below the protocol (not for it, unknown sender).
  int64_t retransmissions = 0;
  // Lossy links: the median and 10th percentile of the frame-to-Ack times
  // of the coordinator's frames to it.
  double ack_round_trip_s = 0;
  double ack_round_trip_p10_s = 0;
  // Lossy links: the device's own measure, the 10th percentile and the
  // median of its frames' send-to-Ack times (since it booted).
  double own_ack_round_trip_p10_s = 0;
  double own_ack_round_trip_s = 0;
  int64_t duplicates_dropped = 0;
  int64_t link_frames_dropped = 0;
};

// Every participant's spans of one inference, for --trace.
struct InferenceTrace {
  double start_s = 0;  // since the first inference's Start
  // Per participant: when its track starts (the Start sent to it, or the
  // coordinator's own run), since this inference's start; and its spans.
  std::vector<double> offset_s;
  std::vector<std::vector<Span>> spans;
};

struct DistributedRun {
  std::vector<int8_t> output;                   // int8 NHWC graph output of the last inference
  std::vector<double> latency_s;                // per inference: Start sent to every Result in
  std::vector<ParticipantReport> participants;  // devices, then the coordinator
  std::vector<InferenceTrace> traces;           // per inference
  std::string replanned_without;                // the device lost, if the run was re-planned
};

// A run that failed because a device stopped answering (its connection
// closed): what `mcusplit run --on-failure replan` recovers from.
class DeviceLostError : public Error {
 public:
  DeviceLostError(const std::string& message, int device)
      : Error(message, kExitFailure), device_(device) {}
  int device() const { return device_; }  // its index in the plan

 private:
  int device_;
};

// Each worker is provisioned with its own device image (host/device_image_writer.h).
// Throws mcusplit::Error (exit code 1) with one line naming the device (and
// the op and layer when known) if a worker refuses the plan, fails, times
// out or disconnects; every worker has been told to stop by then.
DistributedRun run_distributed(const plan::PlanFile& file,
                               const std::vector<SocketAddress>& workers,
                               const std::vector<int8_t>& input, const CoordinatorOptions& options);

}  // namespace mcusplit::host
