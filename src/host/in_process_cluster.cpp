#include "host/in_process_cluster.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <thread>
#include <utility>

#include "common/error.h"
#include "device/device_runtime.h"
#include "device/device_session.h"
#include "host/failure_message.h"
#include "host/in_memory_network.h"
#include "host/session_clock.h"
#include "host/stats_message.h"

namespace mcusplit::host {

namespace {

using Clock = std::chrono::steady_clock;
using device::DeviceOp;
using device::DeviceOpKind;
using device::RuntimeStatus;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Times every Compute op into its layer's slot.
class ComputeTimer final : public device::OpObserver {
 public:
  explicit ComputeTimer(std::vector<double>* layer_s) : layer_s_(layer_s) {}

  void op_begin(int32_t /*op_index*/, const DeviceOp& op) override {
    if (op.kind == DeviceOpKind::Compute) start_ = Clock::now();
  }
  void op_end(int32_t /*op_index*/, const DeviceOp& op, RuntimeStatus /*status*/) override {
    if (op.kind != DeviceOpKind::Compute) return;
    if (op.layer >= 0 && static_cast<size_t>(op.layer) < layer_s_->size()) {
      (*layer_s_)[static_cast<size_t>(op.layer)] += seconds_since(start_);
    }
  }

 private:
  std::vector<double>* layer_s_;
  Clock::time_point start_;
};

// What one participant's thread leaves behind.
struct Outcome {
  ParticipantRun run;
  RuntimeStatus status = RuntimeStatus::Ok;
  device::RuntimeFailure failure;
  std::string exception;  // a host-side exception in the thread
};

}  // namespace

InProcessCluster::InProcessCluster(plan::PlanFile file, ClusterOptions options)
    : file_(std::move(file)), options_(options) {
  for (int p = 0; p < static_cast<int>(file_.plan.participants.size()); ++p) {
    slices_.emplace_back(file_, p);
  }
}

ClusterRun InProcessCluster::run(const std::vector<int8_t>& input) const {
  const quant::QGraph& g = file_.graph;
  const quant::QTensor& in = g.tensors.at(static_cast<size_t>(g.input));
  if (static_cast<int64_t>(input.size()) != in.bytes()) {
    throw Error("the int8 input '" + in.name + "' takes " + std::to_string(in.bytes()) +
                " values, got " + std::to_string(input.size()));
  }
  const int n = static_cast<int>(slices_.size());
  ClusterRun result;
  result.output.assign(static_cast<size_t>(g.tensors.at(static_cast<size_t>(g.output)).bytes()), 0);
  const auto max_payload = static_cast<int32_t>(file_.plan.max_payload_bytes);
  InMemoryNetwork network(n, options_.receive_timeout, max_payload);
  std::vector<Outcome> outcomes(static_cast<size_t>(n));

  // Devices run the device session (device/device_session.h) as the
  // firmware and workers do; the coordinator starts inference 1 on each,
  // runs its own program, collects their Result and Stats and stops them.
  constexpr uint32_t kInference = 1;
  const auto timeout_ms = static_cast<uint32_t>(options_.receive_timeout.count());
  const auto record = [](Outcome& o, const device::RuntimeStats& s) {
    o.run.high_water_bytes = s.high_water_bytes;
    o.run.bytes_sent = s.bytes_sent;
    o.run.bytes_received = s.bytes_received;
    o.run.messages_sent = s.messages_sent;
    o.run.messages_received = s.messages_received;
    o.run.frames_sent = s.frames_sent;
    o.run.frames_received = s.frames_received;
  };
  // Let the others stop now rather than at their timeouts. Not after a
  // timeout: whoever else is stuck reaches its own within the same time,
  // and closing now could hide the participant that waited first (several
  // wait on one missing message under credit flow control).
  const auto close_on_failure = [&](const Outcome& o) {
    // A participant interrupted by another's Error (Closed) is no root cause
    // either: closing then would stop the others before they report theirs.
    const bool waited = o.status == RuntimeStatus::TransportFailed &&
                        (o.failure.transport == device::TransportStatus::Timeout ||
                         o.failure.transport == device::TransportStatus::Closed);
    if ((o.status != RuntimeStatus::Ok && !waited) || !o.exception.empty()) network.close();
  };

  const auto device_main = [&](int p) {
    Outcome& o = outcomes[static_cast<size_t>(p)];
    try {
      const device::DeviceProgram& program = slices_[static_cast<size_t>(p)].program();
      // The arena and frame buffer a device would reserve statically.
      std::vector<int8_t> arena(static_cast<size_t>(program.arena_bytes));
      std::vector<int8_t> frame(static_cast<size_t>(std::max<int64_t>(
          device::frame_buffer_bytes(program, max_payload), device::kMinSessionFrameBytes)));
      std::vector<device::SpanRecord> spans(static_cast<size_t>(std::max(program.op_count, 1)));
      SteadySessionClock clock;
      device::SessionMemory memory{
          arena.data(), program.arena_bytes, frame.data(), static_cast<int64_t>(frame.size()),
          device::RunRecords{spans.data(), static_cast<uint32_t>(spans.size()), nullptr, 0}};
      auto session =
          std::make_unique<device::DeviceSession>(network.endpoint(p), clock, memory, timeout_ms);
      o.run.layer_compute_s.assign(g.layers.size(), 0.0);
      ComputeTimer timer(&o.run.layer_compute_s);
      device::Reason why;
      if (!session->load(program, slices_[static_cast<size_t>(p)].name().c_str(), &why)) {
        o.exception = why.c_str();
      } else {
        // No idle limit: the coordinator always ends with a Stop (or closes
        // the network), however long the others take after this device.
        const device::SessionEnd end = session->serve(device::kWaitForever, &timer);
        record(o, session->stats());
        if (end == device::SessionEnd::RuntimeFailed) {
          o.status = session->failure().status;
          o.failure = session->failure();
        } else if (end != device::SessionEnd::Shutdown && !network.closed()) {
          o.exception = session->message();
        }
      }
    } catch (const std::exception& e) {
      o.exception = e.what();
    }
    close_on_failure(o);
  };

  const auto coordinator_main = [&](int p) {
    Outcome& o = outcomes[static_cast<size_t>(p)];
    device::SessionLink& link = network.endpoint(p);
    try {
      const device::DeviceProgram& program = slices_[static_cast<size_t>(p)].program();
      std::vector<int8_t> arena(static_cast<size_t>(program.arena_bytes));
      const int64_t frame = device::frame_buffer_bytes(program, max_payload);
      std::vector<int8_t> scratch(static_cast<size_t>(frame));
      device::DeviceRuntime runtime(program, arena.data(), program.arena_bytes, scratch.data(),
                                    frame, &link);
      o.run.layer_compute_s.assign(g.layers.size(), 0.0);
      ComputeTimer timer(&o.run.layer_compute_s);
      link.begin_inference(kInference);
      for (int d = 0; d < n; ++d) {
        if (d != p)
          link.send_control(device::MessageType::Start, static_cast<uint16_t>(d), kInference,
                            nullptr, 0);
      }
      const auto start = Clock::now();
      o.status = runtime.run(input.data(), static_cast<int64_t>(input.size()), result.output.data(),
                             static_cast<int64_t>(result.output.size()), &timer);
      o.run.wall_s = seconds_since(start);
      o.failure = runtime.failure();
      record(o, runtime.stats());
    } catch (const std::exception& e) {
      o.exception = e.what();
    }
    close_on_failure(o);
    // Each device ends its run with Result and Stats up to the summary
    // (whose TotalMicros is its wall time; then it is stopped), or with an
    // Error. After a timeout here the others still end theirs, within their
    // own timeouts, and report why; one that says nothing for a whole
    // timeout is stuck, and closing the network stops it.
    int left = n - 1;
    while (left > 0) {
      device::ControlMessage m;
      if (link.wait_control(&m, timeout_ms) != device::TransportStatus::Ok) break;
      const uint16_t d = m.header.source;
      if (m.header.type == device::MessageType::Error) {
        --left;
        continue;
      }
      if (m.header.type != device::MessageType::Stats) continue;
      const StatRecords stats =
          decode_stats(std::vector<uint8_t>(m.payload, m.payload + m.payload_bytes));
      const auto total = stats.find(device::StatKey::TotalMicros);
      if (total == stats.end()) continue;
      outcomes[d].run.wall_s = static_cast<double>(total->second) * 1e-6;
      link.send_control(device::MessageType::Stop, d, device::kNoInference, nullptr, 0);
      --left;
    }
    if (left > 0) network.close();
  };
  const auto participant_main = [&](int p) {
    if (slices_[static_cast<size_t>(p)].program().coordinator()) {
      coordinator_main(p);
    } else {
      device_main(p);
    }
  };

  const auto start = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int p = 0; p < n; ++p) threads.emplace_back(participant_main, p);
  for (std::thread& t : threads) t.join();
  result.wall_s = seconds_since(start);

  // Report root causes; participants stopped by close() only follow them.
  std::string errors;
  int stopped = 0;
  for (int p = 0; p < n; ++p) {
    const Outcome& o = outcomes[static_cast<size_t>(p)];
    const device::DeviceProgram& program = slices_[static_cast<size_t>(p)].program();
    std::string message;
    if (!o.exception.empty()) {
      message = "'" + slices_[static_cast<size_t>(p)].name() + "' failed: " + o.exception;
    } else if (o.status != RuntimeStatus::Ok) {
      if (o.status == RuntimeStatus::TransportFailed &&
          o.failure.transport == device::TransportStatus::Closed) {
        ++stopped;
        continue;
      }
      message = failure_message(file_, program, o.failure, options_.receive_timeout);
    }
    if (!message.empty()) errors += (errors.empty() ? "" : "; ") + message;
  }
  if (!errors.empty()) {
    if (stopped > 0) errors += " (" + std::to_string(stopped) + " other participants stopped)";
    throw Error("in-process run of '" + file_.plan.model_name + "': " + errors, kExitFailure);
  }
  if (const int64_t left = network.undelivered_events(); left > 0) {
    throw Error("in-process run of '" + file_.plan.model_name + "': " + std::to_string(left) +
                    " chunks or credit grants were sent but never taken",
                kExitFailure);
  }

  for (int p = 0; p < n; ++p) {
    ParticipantRun& r = outcomes[static_cast<size_t>(p)].run;
    const plan::ParticipantPlan& pp = file_.plan.participants[static_cast<size_t>(p)];
    r.name = pp.name;
    r.coordinator = pp.coordinator;
    r.arena_bytes = pp.arena_bytes;
    for (double s : r.layer_compute_s) r.compute_s += s;
    result.participants.push_back(std::move(r));
  }
  return result;
}

ClusterRun run_in_process(const plan::Plan& plan, const quant::QGraph& full_graph,
                          const std::vector<int8_t>& input, ClusterOptions options) {
  return InProcessCluster(provision_plan(plan, full_graph), options).run(input);
}

}  // namespace mcusplit::host
