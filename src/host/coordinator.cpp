#include "host/coordinator.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "common/error.h"
#include "device/device_runtime.h"
#include "host/device_image_writer.h"
#include "host/device_slice.h"
#include "host/failure_message.h"
#include "host/provision_message.h"
#include "host/socket_transport.h"
#include "host/stats_message.h"

namespace mcusplit::host {
namespace {

using device::MessageType;
using device::StatKey;
using device::TransportStatus;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One line, whatever a worker put in its text.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

int64_t stat(const StatRecords& r, StatKey key) {
  const auto it = r.find(key);
  return it == r.end() ? 0 : static_cast<int64_t>(it->second);
}

int64_t planned_data_frames(const plan::ParticipantPlan& pp, int64_t max_payload) {
  int64_t frames = 0;
  for (const plan::PlanOp& op : pp.ops) {
    if (op.kind != plan::OpKind::Send) continue;
    const int64_t bytes = op.box.volume();
    frames += std::max<int64_t>(1, (bytes + max_payload - 1) / max_payload);
  }
  return frames;
}

// Credit frames the runtime sends: on entering each run of same-step ops,
// one per peer it receives from in that run (device_runtime.cpp).
int64_t planned_credit_frames(const plan::ParticipantPlan& pp) {
  int64_t frames = 0;
  for (size_t first = 0; first < pp.ops.size();) {
    size_t end = 0;
    frames += static_cast<int64_t>(plan::step_receive_peers(pp, first, &end).size());
    first = end;
  }
  return frames;
}

class Coordinator {
 public:
  Coordinator(const plan::PlanFile& file, const std::vector<SocketAddress>& workers,
              const CoordinatorOptions& o)
      : file_(file),
        workers_(workers),
        o_(o),
        star_(o.star || o.serial_links),
        transport_(o.receive_timeout),
        self_(file.plan.coordinator()) {}

  DistributedRun run(const std::vector<int8_t>& input) {
    const plan::Plan& p = file_.plan;
    if (static_cast<int>(workers_.size()) != p.device_count()) {
      throw Error("the plan has " + std::to_string(p.device_count()) + " devices but " +
                  std::to_string(workers_.size()) + " worker addresses were given");
    }
    transport_.set_self(self_);
    transport_.set_plan_hash(file_.hash, 0);
    transport_.set_max_payload(static_cast<uint32_t>(p.max_payload_bytes));
    transport_.set_relay(star_);
    if (o_.key && o_.tag_frames) transport_.set_key(*o_.key);
    for (size_t i = 0; i < p.participants.size(); ++i) {
      transport_.set_peer_name(static_cast<int>(i), p.participants[i].name);
    }
    for (int i = 0; i < p.device_count(); ++i) {
      if (o_.serial_links) transport_.set_serial(i, true);
    }
    DistributedRun result;
    try {
      connect();
      if (greeted_by_ping()) {
        if (!o_.preprovisioned) send_provisioning();
        confirm_provisioned();
      } else {
        send_provisioning();
        await_readiness();
      }
      const DeviceSlice slice(file_, self_);
      for (int r = 0; r < o_.repeat; ++r) infer(slice, static_cast<uint32_t>(r), input, &result);
    } catch (...) {
      stop_all();
      throw;
    }
    stop_all();
    return result;
  }

 private:
  // Where device i is: its address on the link layer, else the socket.
  std::string address(int i) const {
    return o_.link_layer != nullptr ? o_.link_layer->device_address(i)
                                    : workers_[static_cast<size_t>(i)].text();
  }
  std::string device(int i) const {
    return "device '" + file_.plan.participants[static_cast<size_t>(i)].name + "' at " + address(i);
  }
  std::string link_failure(int i) const {
    return o_.link_layer != nullptr ? o_.link_layer->failure(i) : std::string();
  }
  // A link layer notices a dead device only while frames wait for it (an
  // Ethernet bridge: no Ack), so a device that died silently would go
  // unnamed after a timeout: a frame to each device makes frames wait, and
  // within its timeout the link layer names each that acknowledges nothing.
  // The frame is a Stop of the inference (or, between inferences, of the
  // devices): the run ends anyway, and a device blocked on a dead peer still
  // takes a Stop, where it would leave a Ping unacknowledged until it could
  // answer it.
  void probe_links() {
    if (o_.link_layer == nullptr) return;
    std::vector<std::pair<int, int64_t>> asked;  // device, its acknowledgements before
    for (int i = 0; i < file_.plan.device_count(); ++i) {
      if (!link_failure(i).empty() || transport_.link_closed(i)) continue;
      const int64_t before = o_.link_layer->acknowledged(i);
      if (transport_.send_message(i, MessageType::Stop, running_, nullptr, 0) ==
          TransportStatus::Ok) {
        asked.emplace_back(i, before);
      }
    }
    const Clock::time_point deadline =
        Clock::now() + o_.receive_timeout + std::chrono::milliseconds(1000);
    const auto settled = [&](const std::pair<int, int64_t>& a) {
      return !link_failure(a.first).empty() || transport_.link_closed(a.first) ||
             o_.link_layer->acknowledged(a.first) > a.second;
    };
    while (Clock::now() < deadline && !std::all_of(asked.begin(), asked.end(), settled)) {
      transport_.serve_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
    }
  }
  // `timed_out`: the failure is a wait that timed out, which a device that
  // died silently causes (probe_links).
  [[noreturn]] void fail(const std::string& text, bool timed_out = false) {
    if (timed_out) probe_links();
    // A device whose link closed or died is the root cause of whatever its
    // peers report: read every link a little longer so its end of file
    // arrives, then name it first.
    transport_.serve_until(Clock::now() + std::chrono::milliseconds(200));
    std::string dead;
    std::string links;  // the link layer's own words for links it declared dead
    for (int i = 0; i < file_.plan.device_count(); ++i) {
      const std::string why = link_failure(i);
      if (why.empty() && !transport_.link_lost(i)) continue;
      if (why.empty()) {
        dead += (dead.empty() ? "" : ", ") + device(i);
      } else {
        links += (links.empty() ? "" : "; ") + why;
      }
      if (failed_device_ < 0) failed_device_ = i;
    }
    if (!dead.empty() || !links.empty()) {
      // What the others then report only follows from it.
      const std::string where = where_stopped(failed_device_);
      const std::string cause =
          links + (links.empty() || dead.empty() ? "" : "; ") +
          (dead.empty() ? "" : dead + " stopped answering (its connection closed)");
      throw DeviceLostError("run of '" + file_.plan.model_name + "' failed: " + cause +
                                (where.empty() ? "; " + one_line(text) : " " + where),
                            failed_device_);
    }
    throw Error("run of '" + file_.plan.model_name + "' failed: " + one_line(text), kExitFailure);
  }
  [[noreturn]] void fail_with_error(const WireMessage& m) {
    std::string text(m.body.begin() + device::kErrorCodeBytes, m.body.end());
    if (text.empty()) text = device(m.source) + " reported an error";
    // A device knows its ops by index only; name the one it stopped at with
    // the plan's tensors and layers.
    WireMessage at;
    if (m.source >= 0 && m.source < file_.plan.device_count() &&
        transport_.wait_control(&at, Clock::now(), m.source,
                                static_cast<int>(MessageType::Stats)) == TransportStatus::Ok) {
      const StatRecords r = decode_stats(at.body);
      if (r.count(StatKey::StoppedAtOp) != 0) {
        const DeviceSlice slice(file_, m.source);
        const auto op = static_cast<int32_t>(stat(r, StatKey::StoppedAtOp));
        if (op >= 0 && op < slice.program().op_count) {
          text += "; that is " + describe_op(file_, slice.program(), op);
        }
      }
    }
    fail(text);
  }
  // A failed wait for `i`: its error, or the link failure, or the timeout.
  [[noreturn]] void fail_wait(int i, TransportStatus s, const char* waiting_for) {
    // Another worker's Error is the root cause (its exit may be what broke
    // this wait).
    WireMessage m;
    if (transport_.wait_control(&m, Clock::now(), -1, static_cast<int>(MessageType::Error)) ==
        TransportStatus::Ok) {
      fail_with_error(m);
    }
    if (s == TransportStatus::Timeout) {
      fail(device(i) + " sent no " + waiting_for + " within " +
               std::to_string(o_.receive_timeout.count()) + " ms",
           true);
    }
    fail(device(i) + ": " + transport_.error());
  }

  void connect() {
    const Clock::time_point deadline = Clock::now() + o_.setup_timeout;
    for (int i = 0; i < file_.plan.device_count(); ++i) {
      try {
        UniqueFd fd = connect_until(workers_[static_cast<size_t>(i)], deadline);
        if (greeted_by_ping()) {
          // It waits for the Ping of confirm_provisioned().
          transport_.attach_peer(i, std::move(fd));
        } else {
          transport_.connect_peer(i, std::move(fd), deadline);
        }
      } catch (const Error& e) {
        fail("cannot reach " + device(i) + ": " + e.what());
      }
      transport_.set_essential(i);
    }
  }

  // Devices that hold their image (preprovisioned) and device firmware
  // over serial links: no greeting on connecting; their first Ping comes
  // after any provisioning (confirm_provisioned).
  bool greeted_by_ping() const { return o_.preprovisioned || o_.serial_links; }

  // A Ping each, answered by a Pong with the plan hash of the image the
  // device holds, or by an Error if it refuses.
  void confirm_provisioned() {
    const int n = file_.plan.device_count();
    for (int i = 0; i < n; ++i) {
      if (transport_.send_greeting(i) != TransportStatus::Ok) {
        fail("cannot greet " + device(i) + ": " + transport_.error());
      }
    }
    const Clock::time_point deadline = Clock::now() + o_.setup_timeout;
    for (int i = 0; i < n; ++i) {
      WireMessage m;
      const TransportStatus s = transport_.wait_control(&m, deadline, i);
      if (s != TransportStatus::Ok) fail_wait(i, s, "answer to its greeting");
      if (m.type == MessageType::Error) {
        std::string text(m.body.begin() + device::kErrorCodeBytes, m.body.end());
        // Name the device even if it could not (no image, so no name).
        const int from = m.source >= 0 && m.source < n ? m.source : i;
        const std::string& name = file_.plan.participants[static_cast<size_t>(from)].name;
        if (text.find("'" + name + "'") == std::string::npos) text = device(from) + ": " + text;
        fail(text);
      }
      if (m.type != MessageType::Pong) {
        fail(device(i) + " answered its greeting with " + device::message_type_name(m.type));
      }
      if (m.plan_hash != file_.hash) {
        fail(device(i) + " holds " +
             (m.plan_hash == 0 ? std::string("no plan") : "plan " + hex(m.plan_hash)) +
             ", not this plan " + hex(file_.hash));
      }
    }
    transport_.set_plan_hash(file_.hash, file_.hash);
  }

  static std::string hex(uint64_t v) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    return text;
  }

  void send_provisioning() {
    // Each device gets only its own slice: its device image.
    Provisioning p;
    for (const plan::ParticipantPlan& pp : file_.plan.participants) p.names.push_back(pp.name);
    if (o_.provision_addresses) {
      p.addresses = *o_.provision_addresses;
    } else if (!star_) {
      for (const SocketAddress& a : workers_) p.addresses.push_back(a.text());
    }
    const int n = file_.plan.device_count();
    for (int i = 0; i < n; ++i) {
      const std::vector<uint8_t> image =
          o_.key ? tagged_image(write_participant_image(file_, i), *o_.key)
                 : write_participant_image(file_, i);
      p.image.assign(image.begin(), image.end());
      const std::vector<uint8_t> body = encode_provisioning(p);
      if (transport_.send_message(i, MessageType::Provision, device::kNoInference, body.data(),
                                  body.size()) != TransportStatus::Ok) {
        fail("cannot provision " + device(i) + ": " + transport_.error());
      }
    }
  }

  // A worker answers this Ping once provisioned and linked to its peers.
  void await_readiness() {
    const int n = file_.plan.device_count();
    for (int i = 0; i < n; ++i) {
      transport_.send_message(i, MessageType::Ping, device::kNoInference, nullptr, 0);
    }
    const Clock::time_point deadline = Clock::now() + o_.setup_timeout;
    // Whichever device answers first: a device lost while the others wait
    // for it to connect to them ends the wait at once, not at the deadline.
    std::vector<bool> ready(static_cast<size_t>(n), false);
    for (int left = n; left > 0;) {
      WireMessage m;
      const TransportStatus s = transport_.wait_control(&m, deadline);
      if (s != TransportStatus::Ok) {
        const int peer = transport_.error_peer();
        const auto waiting = std::find(ready.begin(), ready.end(), false) - ready.begin();
        fail_wait(peer >= 0 && peer < n ? peer : static_cast<int>(waiting), s, "readiness");
      }
      if (m.type == MessageType::Error) fail_with_error(m);
      if (m.type != MessageType::Pong || m.source < 0 || m.source >= n) {
        fail(device(m.source) + " answered provisioning with " + device::message_type_name(m.type));
      }
      if (!ready[static_cast<size_t>(m.source)]) {
        ready[static_cast<size_t>(m.source)] = true;
        --left;
      }
    }
    transport_.set_plan_hash(file_.hash, file_.hash);
  }

  void infer(const DeviceSlice& slice, uint32_t id, const std::vector<int8_t>& input,
             DistributedRun* result) {
    const plan::Plan& p = file_.plan;
    const int n = p.device_count();
    const device::DeviceProgram& program = slice.program();
    transport_.set_inference(id);
    transport_.reset_counters();
    if (o_.link_layer != nullptr) o_.link_layer->reset_figures();
    running_ = id;
    const quant::QTensor& out = file_.graph.tensors.at(static_cast<size_t>(file_.graph.output));
    result->output.assign(static_cast<size_t>(out.bytes()), 0);
    std::vector<int8_t> arena(static_cast<size_t>(program.arena_bytes));
    const int64_t frame = device::frame_buffer_bytes(program, transport_.max_payload());
    std::vector<int8_t> scratch(static_cast<size_t>(frame));

    const Clock::time_point start = Clock::now();
    if (id == 0) first_start_ = start;
    InferenceTrace trace;
    trace.start_s = std::chrono::duration<double>(start - first_start_).count();
    trace.offset_s.assign(static_cast<size_t>(n) + 1, 0.0);
    trace.spans.resize(static_cast<size_t>(n) + 1);
    for (int i = 0; i < n; ++i) {
      trace.offset_s[static_cast<size_t>(i)] = seconds_since(start);
      if (transport_.send_message(i, MessageType::Start, id, nullptr, 0,
                                  static_cast<uint32_t>(file_.graph.input)) !=
          TransportStatus::Ok) {
        fail("cannot start " + device(i) + ": " + transport_.error());
      }
    }
    device::DeviceRuntime runtime(program, arena.data(), program.arena_bytes, scratch.data(), frame,
                                  &transport_);
    trace.offset_s.back() = seconds_since(start);
    SpanRecorder own_spans;
    const device::RuntimeStatus status =
        runtime.run(input.data(), static_cast<int64_t>(input.size()), result->output.data(),
                    static_cast<int64_t>(result->output.size()), &own_spans);
    const double own_s = seconds_since(start);
    if (status != device::RuntimeStatus::Ok) explain_failure(program, runtime.failure());

    std::vector<ParticipantReport> reports(static_cast<size_t>(n) + 1);
    for (int i = 0; i < n; ++i) {
      bool got_result = false;
      bool got_stats = false;
      while (!got_result || !got_stats) {
        WireMessage m;
        const TransportStatus s = transport_.wait_control(&m, Clock::now() + o_.receive_timeout, i);
        if (s != TransportStatus::Ok) fail_wait(i, s, got_result ? "stats" : "result");
        if (m.type == MessageType::Error) fail_with_error(m);
        if (m.inference_id != id) continue;  // a late frame of an earlier inference
        if (m.type == MessageType::Result) {
          got_result = true;
        } else if (m.type == MessageType::Stats) {
          ParticipantReport& w = reports[static_cast<size_t>(i)];
          ++w.stats_frames_sent;
          decode_span_stats(m.body, &trace.spans[static_cast<size_t>(i)]);
          decode_compute_clocks(m.body, &w.compute_clocks);
          const StatRecords r = decode_stats(m.body);
          // Span records come first; the summary (with TotalMicros) ends them.
          if (r.count(StatKey::TotalMicros) == 0) continue;
          got_stats = true;
          w.high_water_bytes = stat(r, StatKey::PeakArenaBytes);
          w.bytes_sent = stat(r, StatKey::BytesSent);
          w.bytes_received = stat(r, StatKey::BytesReceived);
          w.frames_sent = stat(r, StatKey::FramesSent);
          w.frames_received = stat(r, StatKey::FramesReceived);
          w.data_frames_sent = stat(r, StatKey::DataFramesSent);
          w.credit_frames_sent = stat(r, StatKey::CreditFramesSent);
          w.total_s = static_cast<double>(stat(r, StatKey::TotalMicros)) * 1e-6;
          w.compute_s = static_cast<double>(stat(r, StatKey::ComputeMicros)) * 1e-6;
          w.wait_s = static_cast<double>(stat(r, StatKey::WaitMicros)) * 1e-6;
          w.clock_hz = static_cast<uint64_t>(stat(r, StatKey::ClockHz));
          w.retransmissions = stat(r, StatKey::Retransmissions);
          w.duplicates_dropped = stat(r, StatKey::DuplicatesDropped);
          w.link_frames_dropped = stat(r, StatKey::LinkFramesDropped);
          w.own_ack_round_trip_p10_s =
              static_cast<double>(stat(r, StatKey::AckRoundTripP10Micros)) * 1e-6;
          w.own_ack_round_trip_s =
              static_cast<double>(stat(r, StatKey::AckRoundTripMedianMicros)) * 1e-6;
          w.serial_bytes_dropped = transport_.dropped_bytes(i);
        } else {
          fail(device(i) + " sent an unexpected " + device::message_type_name(m.type) + " message");
        }
      }
    }
    running_ = device::kNoInference;
    result->latency_s.resize(id + 1, 0.0);
    result->latency_s[id] = seconds_since(start);

    ParticipantReport& c = reports.back();
    const device::RuntimeStats& s = runtime.stats();
    c.high_water_bytes = s.high_water_bytes;
    c.bytes_sent = s.bytes_sent;
    c.bytes_received = s.bytes_received;
    c.frames_sent = transport_.counters().frames_sent;
    c.frames_received = transport_.counters().frames_received;
    c.data_frames_sent = s.frames_sent;
    c.credit_frames_sent = s.credit_grants;
    c.frames_relayed = transport_.counters().frames_relayed;
    c.bytes_relayed = transport_.counters().bytes_relayed;
    if (o_.link_layer != nullptr) {
      // Below the sockets: what the link layer relayed and sent again.
      const LinkLayerFigures link = o_.link_layer->figures();
      c.frames_relayed += link.frames_relayed;
      c.bytes_relayed += link.bytes_relayed;
      for (size_t i = 0; i < link.retransmissions.size() && i < static_cast<size_t>(n); ++i) {
        reports[i].retransmissions += link.retransmissions[i];
        reports[i].ack_round_trip_s = link.ack_round_trip_s[i];
        reports[i].ack_round_trip_p10_s = link.ack_round_trip_p10_s[i];
      }
    }
    c.total_s = own_s;
    c.compute_s = static_cast<double>(own_spans.total_us(SpanKind::Compute)) * 1e-6;
    c.wait_s = static_cast<double>(own_spans.total_us(SpanKind::Receive) +
                                   own_spans.total_us(SpanKind::Send)) *
               1e-6;
    trace.spans.back() = own_spans.spans();
    for (size_t i = 0; i < reports.size(); ++i) {
      const plan::ParticipantPlan& pp = p.participants[i];
      ParticipantReport& r = reports[i];
      r.name = pp.name;
      r.coordinator = pp.coordinator;
      r.address = pp.coordinator ? "" : address(static_cast<int>(i));
      r.arena_bytes = pp.arena_bytes;
      r.planned_bytes_sent = pp.estimate.bytes_sent;
      r.planned_bytes_received = pp.estimate.bytes_received;
      r.planned_data_frames_sent = planned_data_frames(pp, p.max_payload_bytes);
      r.planned_credit_frames_sent = planned_credit_frames(pp);
      r.steps = step_times(trace.spans[i], p.step_count());
    }
    result->participants = std::move(reports);
    if (o_.keep_traces) result->traces.push_back(std::move(trace));
  }

  // The root cause: a worker's Error if one arrives soon (a worker failing
  // makes the coordinator's receive fail too), else the coordinator's own.
  [[noreturn]] void explain_failure(const device::DeviceProgram& program,
                                    const device::RuntimeFailure& failure) {
    WireMessage m;
    const auto grace =
        std::min<std::chrono::milliseconds>(o_.receive_timeout, std::chrono::milliseconds(500));
    if (transport_.wait_control(&m, Clock::now() + grace, -1,
                                static_cast<int>(MessageType::Error)) == TransportStatus::Ok) {
      fail_with_error(m);
    }
    std::string text = failure_message(file_, program, failure, o_.receive_timeout);
    const int peer = transport_.error_peer();
    if (peer >= 0 && peer < file_.plan.device_count() && !transport_.error().empty()) {
      // A device's link broke (a bad frame from it): that device is the
      // cause, named first; where the coordinator's own program was follows.
      fail(device(peer) + ": " + transport_.error() + "; " + text,
           failure.transport == TransportStatus::Timeout);
    }
    if (!transport_.error().empty()) text += " (" + transport_.error() + ")";
    fail(text, failure.transport == TransportStatus::Timeout);
  }

  // Abandons the running inference on the devices still there and asks
  // where each was (a Stats StoppedAtOp); describes the op of the one that
  // waited on `dead`, else the earliest. "" if no inference runs or nobody
  // answers.
  std::string where_stopped(int dead) {
    if (running_ == device::kNoInference) return "";
    const int n = file_.plan.device_count();
    std::vector<int> asked;
    for (int i = 0; i < n; ++i) {
      if (i == dead || transport_.link_closed(i)) continue;
      if (transport_.send_message(i, MessageType::Stop, running_, nullptr, 0) ==
          TransportStatus::Ok) {
        asked.push_back(i);
      }
    }
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(500);
    std::string best;
    int best_step = -1;
    bool best_waits_on_dead = false;
    for (int i : asked) {
      WireMessage m;
      while (transport_.wait_control(&m, deadline, i, static_cast<int>(MessageType::Stats)) ==
             TransportStatus::Ok) {
        const StatRecords r = decode_stats(m.body);
        if (m.inference_id != running_ || r.count(StatKey::StoppedAtOp) == 0) continue;
        const DeviceSlice slice(file_, i);
        const device::DeviceProgram& program = slice.program();
        const auto op = static_cast<int32_t>(stat(r, StatKey::StoppedAtOp));
        if (op < 0 || op >= program.op_count) break;
        const device::DeviceOp& o = program.ops[op];
        const bool waits_on_dead =
            (o.kind == device::DeviceOpKind::Receive || o.kind == device::DeviceOpKind::Send) &&
            o.peer == dead;
        if (best.empty() || (waits_on_dead && !best_waits_on_dead) ||
            (waits_on_dead == best_waits_on_dead && o.step < best_step)) {
          best_step = o.step;
          best_waits_on_dead = waits_on_dead;
          best = "while '" + file_.plan.participants[static_cast<size_t>(i)].name + "' was at " +
                 describe_op(file_, program, op);
        }
        break;
      }
    }
    return best;
  }

  // Best effort: a worker that already exited cannot be told.
  void stop_all() {
    for (int i = 0; i < file_.plan.device_count(); ++i) {
      transport_.send_message(i, MessageType::Stop, device::kNoInference, nullptr, 0);
    }
  }

  const plan::PlanFile& file_;
  const std::vector<SocketAddress>& workers_;
  const CoordinatorOptions& o_;
  bool star_;
  SocketTransport transport_;
  int self_;
  Clock::time_point first_start_;
  int failed_device_ = -1;
  uint32_t running_ = device::kNoInference;  // the inference in progress
};

}  // namespace

DistributedRun run_distributed(const plan::PlanFile& file,
                               const std::vector<SocketAddress>& workers,
                               const std::vector<int8_t>& input,
                               const CoordinatorOptions& options) {
  const quant::QTensor& in = file.graph.tensors.at(static_cast<size_t>(file.graph.input));
  if (static_cast<int64_t>(input.size()) != in.bytes()) {
    throw Error("the int8 input '" + in.name + "' takes " + std::to_string(in.bytes()) +
                " values, got " + std::to_string(input.size()));
  }
  return Coordinator(file, workers, options).run(input);
}

}  // namespace mcusplit::host
