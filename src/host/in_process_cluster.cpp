#include "host/in_process_cluster.h"

#include <exception>
#include <thread>
#include <utility>

#include "common/error.h"
#include "device/device_runtime.h"
#include "host/failure_message.h"
#include "host/in_memory_network.h"

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

  const auto participant_main = [&](int p) {
    Outcome& o = outcomes[static_cast<size_t>(p)];
    try {
      const device::DeviceProgram& program = slices_[static_cast<size_t>(p)].program();
      // The arena and scratch a device would reserve statically.
      std::vector<int8_t> arena(static_cast<size_t>(program.arena_bytes));
      const int64_t frame = device::frame_buffer_bytes(program, max_payload);
      std::vector<int8_t> scratch(static_cast<size_t>(frame));
      device::DeviceRuntime runtime(program, arena.data(), program.arena_bytes, scratch.data(),
                                    frame, &network.endpoint(p));
      o.run.layer_compute_s.assign(g.layers.size(), 0.0);
      ComputeTimer timer(&o.run.layer_compute_s);
      const bool coordinator = program.coordinator();
      const auto start = Clock::now();
      o.status = runtime.run(coordinator ? input.data() : nullptr,
                             coordinator ? static_cast<int64_t>(input.size()) : 0,
                             coordinator ? result.output.data() : nullptr,
                             coordinator ? static_cast<int64_t>(result.output.size()) : 0, &timer);
      o.run.wall_s = seconds_since(start);
      o.failure = runtime.failure();
      const device::RuntimeStats& s = runtime.stats();
      o.run.high_water_bytes = s.high_water_bytes;
      o.run.bytes_sent = s.bytes_sent;
      o.run.bytes_received = s.bytes_received;
      o.run.messages_sent = s.messages_sent;
      o.run.messages_received = s.messages_received;
      o.run.frames_sent = s.frames_sent;
      o.run.frames_received = s.frames_received;
    } catch (const std::exception& e) {
      o.exception = e.what();
    }
    // Let the others stop now rather than at their timeouts. Not after a
    // timeout: whoever else is stuck reaches its own within the same time,
    // and closing now could hide the participant that waited first (several
    // wait on one missing message under credit flow control).
    const bool timed_out = o.status == RuntimeStatus::TransportFailed &&
                           o.failure.transport == device::TransportStatus::Timeout;
    if ((o.status != RuntimeStatus::Ok && !timed_out) || !o.exception.empty()) network.close();
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
