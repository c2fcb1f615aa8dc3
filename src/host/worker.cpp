#include "host/worker.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "common/error.h"
#include "device/device_image.h"
#include "device/device_runtime.h"
#include "host/failure_message.h"
#include "host/op_spans.h"
#include "host/provision_message.h"
#include "host/socket_io.h"
#include "host/socket_transport.h"
#include "host/stats_message.h"

namespace mcusplit::host {
namespace {

using device::MessageType;
using device::StatKey;
using device::TransportStatus;

constexpr std::chrono::milliseconds kSlice{50};

int64_t micros_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

class Worker {
 public:
  Worker(const WorkerOptions& o, int listen_fd)
      : o_(o), transport_(o.receive_timeout), listen_fd_(listen_fd) {}

  // One session: a coordinator connects, provisions, runs, says Stop. False
  // if no coordinator came within the idle timeout.
  bool run() {
    UniqueFd fd = accept_until(listen_fd_, Clock::now() + o_.idle_timeout);
    if (!fd.valid()) return false;
    coordinator_ = transport_.accept_peer(std::move(fd), Clock::now() + o_.setup_timeout);
    transport_.set_essential(coordinator_);
    if (!provision() || !connect_peers()) return true;
    serve();
    return true;
  }

 private:
  static std::string seconds(std::chrono::milliseconds ms) {
    return std::to_string(ms.count()) + " ms";
  }

  [[noreturn]] void fail_local(const std::string& text) const {
    throw Error(name() + text, kExitFailure);
  }
  // Reports to the coordinator, then fails.
  [[noreturn]] void fail_reported(device::ErrorCode code, const std::string& text) {
    transport_.send_error(coordinator_, code, name() + text);
    fail_local(text);
  }
  std::string name() const { return name_.empty() ? "worker: " : "device '" + name_ + "': "; }
  static std::string hex(uint64_t v) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    return text;
  }

  // The next message from the coordinator. Throws on timeout or link failure.
  WireMessage next_command(std::chrono::milliseconds timeout, const char* waiting_for) {
    WireMessage m;
    const TransportStatus s = transport_.wait_control(&m, Clock::now() + timeout, coordinator_);
    if (s == TransportStatus::Timeout) {
      fail_local(std::string("no ") + waiting_for + " from the coordinator within " +
                 seconds(timeout));
    }
    if (s != TransportStatus::Ok) fail_local(transport_.error());
    return m;
  }

  // False if the coordinator said Stop instead.
  bool provision() {
    const WireMessage m = next_command(o_.setup_timeout, "provisioning");
    if (m.type == MessageType::Stop) return false;
    if (m.type != MessageType::Provision) {
      fail_reported(device::ErrorCode::UnexpectedMessage,
                    std::string("expected provisioning, got ") + device::message_type_name(m.type));
    }
    std::string refusal;
    try {
      const Provisioning p = decode_provisioning(m.body);
      // The image's int32 arrays need a 4-byte aligned start: a vector of
      // uint32_t gives it.
      image_.assign((p.image.size() + 3) / 4, 0);
      std::memcpy(image_.data(), p.image.data(), p.image.size());
      storage_ = std::make_unique<device::DeviceImageStorage>();
      const device::ImageStatus status =
          device::parse_device_image(reinterpret_cast<const uint8_t*>(image_.data()),
                                     p.image.size(), storage_.get(), &parsed_);
      if (status != device::ImageStatus::Ok) {
        throw Error(std::string("its device image is unusable: ") +
                    device::device_image_status_name(status) + " (" + parsed_.detail + ")");
      }
      name_.assign(parsed_.device_name, parsed_.device_name_bytes);
      const device::DeviceProgram& program = parsed_.program;
      const int self = transport_.self();
      if (parsed_.plan_hash != m.plan_hash) {
        throw Error("its device image is for plan " + hex(parsed_.plan_hash) +
                    " but the coordinator runs plan " + hex(m.plan_hash));
      }
      if (program.participant != self || coordinator_ != program.participant_count - 1) {
        throw Error("its device image is participant " + std::to_string(program.participant) +
                    " of " + std::to_string(program.participant_count) + ", not " +
                    std::to_string(self));
      }
      const int devices = program.participant_count - 1;
      star_ = p.addresses.empty();
      if (!star_ && static_cast<int>(p.addresses.size()) != devices) {
        throw Error("the provisioning lists " + std::to_string(p.addresses.size()) +
                    " device addresses for " + std::to_string(devices) + " devices");
      }
      addresses_ = p.addresses;
      for (size_t i = 0; i < p.names.size(); ++i) {
        transport_.set_peer_name(static_cast<int>(i), p.names[i]);
      }
      if (o_.ram_bytes > 0 && program.arena_bytes > o_.ram_bytes) {
        refusal = "refused the plan: its arena needs " + std::to_string(program.arena_bytes) +
                  " bytes of RAM but this worker has " + std::to_string(o_.ram_bytes) + " (--ram)";
      }
    } catch (const Error& e) {
      fail_reported(device::ErrorCode::BadProvision, std::string("refused the plan: ") + e.what());
    }
    if (!refusal.empty()) fail_reported(device::ErrorCode::BadProvision, refusal);
    const device::DeviceProgram& program = parsed_.program;
    transport_.set_plan_hash(parsed_.plan_hash, parsed_.plan_hash);
    transport_.set_max_payload(parsed_.max_payload_bytes);
    arena_.assign(static_cast<size_t>(program.arena_bytes), 0);
    scratch_.assign(static_cast<size_t>(device::frame_buffer_bytes(
                        program, static_cast<int32_t>(parsed_.max_payload_bytes))),
                    0);
    return true;
  }

  // Switched topology: a link to every other device. Lower indices accept,
  // higher ones connect, so the links form without a cycle of waits.
  // True if the coordinator has said Stop; throws if its link failed.
  bool stopped() {
    WireMessage m;
    const TransportStatus s = transport_.wait_control(&m, Clock::now(), coordinator_,
                                                      static_cast<int>(MessageType::Stop));
    if (s == TransportStatus::Ok) return true;
    if (s != TransportStatus::Timeout) fail_local(transport_.error());
    return false;
  }

  // False if the coordinator said Stop meanwhile.
  bool connect_peers() {
    const Clock::time_point deadline = Clock::now() + o_.setup_timeout;
    const int self = transport_.self();
    if (star_) {
      // Every frame goes through the coordinator, which relays it.
      for (int j = 0; j < devices(); ++j) {
        if (j != self) transport_.set_route(j, coordinator_);
      }
      return true;
    }
    try {
      for (int j = 0; j < self; ++j) {
        const SocketAddress a = parse_address(addresses_[static_cast<size_t>(j)], "peer", false);
        transport_.connect_peer(j, connect_until(a, deadline), deadline);
      }
      for (int k = self + 1; k < devices(); ++k) {
        UniqueFd fd;
        // In short slices, so that the coordinator's Stop (another device
        // refused the plan) ends the wait at once.
        while (!fd.valid() && Clock::now() < deadline) {
          if (stopped()) return false;
          fd = accept_until(listen_fd_, std::min(deadline, Clock::now() + kSlice));
        }
        if (!fd.valid()) throw Error("not every peer connected in time");
        const int peer = transport_.accept_peer(std::move(fd), deadline);
        if (peer <= self || peer >= devices()) {
          throw Error("an unexpected participant " + std::to_string(peer) + " connected");
        }
      }
    } catch (const Error& e) {
      fail_reported(device::ErrorCode::Unspecified,
                    std::string("cannot reach its peers: ") + e.what());
    }
    return true;
  }

  void serve() {
    for (;;) {
      WireMessage m = next_command(o_.idle_timeout, "command");
      switch (m.type) {
        case MessageType::Ping:
          transport_.send_message(coordinator_, MessageType::Pong, m.inference_id, m.body.data(),
                                  m.body.size());
          break;
        case MessageType::Stop:
          if (m.inference_id == device::kNoInference) return;
          break;  // nothing is running: nothing to abandon
        case MessageType::Start:
          if (!run_inference(m.inference_id)) return;
          break;
        default:
          fail_reported(device::ErrorCode::UnexpectedMessage,
                        std::string("unexpected ") + device::message_type_name(m.type) +
                            " message from the coordinator");
      }
    }
  }

  // False when a Stop shut the worker down during the run.
  bool run_inference(uint32_t id) {
    const device::DeviceProgram& program = parsed_.program;
    transport_.set_inference(id);
    transport_.reset_counters();
    device::DeviceRuntime runtime(program, arena_.data(), static_cast<int64_t>(arena_.size()),
                                  scratch_.data(), static_cast<int64_t>(scratch_.size()),
                                  &transport_);
    SpanRecorder spans;
    const Clock::time_point start = Clock::now();
    const device::RuntimeStatus status = runtime.run(nullptr, 0, nullptr, 0, &spans);
    const int64_t total_us = micros_since(start);
    if (status != device::RuntimeStatus::Ok) {
      if (transport_.interrupted()) {
        WireMessage stop;
        if (transport_.wait_control(&stop, Clock::now(), coordinator_,
                                    static_cast<int>(MessageType::Stop)) == TransportStatus::Ok) {
          if (stop.inference_id == device::kNoInference) return false;
          // Abandoned: tell the coordinator where this device was, so it can
          // say where the run stopped.
          transport_.drop_link_events();
          const std::vector<uint8_t> body = encode_stats(
              {{StatKey::StoppedAtOp, static_cast<uint64_t>(runtime.failure().op_index)}});
          transport_.send_message(coordinator_, MessageType::Stats, id, body.data(), body.size());
          return true;
        }
      }
      // The op, for the coordinator to name it with the plan's names; then
      // what this device can say without them.
      const std::vector<uint8_t> at =
          encode_stats({{StatKey::StoppedAtOp, static_cast<uint64_t>(runtime.failure().op_index)}});
      transport_.send_message(coordinator_, MessageType::Stats, id, at.data(), at.size());
      std::string text =
          failure_message(nullptr, program, name_, runtime.failure(), o_.receive_timeout);
      if (!transport_.error().empty()) text += " (" + transport_.error() + ")";
      transport_.send_error(coordinator_, device::ErrorCode::RuntimeFailed, text);
      throw Error(text, kExitFailure);
    }
    const int output = program.output_tensor;
    if (transport_.send_message(coordinator_, MessageType::Result, id, nullptr, 0,
                                static_cast<uint32_t>(output)) != TransportStatus::Ok) {
      fail_local("cannot send its result: " + transport_.error());
    }
    // Span records first (as many Stats frames as they take), then the
    // summary, whose TotalMicros tells the coordinator the stats are complete.
    const size_t max_body =
        std::min<size_t>(static_cast<size_t>(transport_.max_payload()), device::kDefaultMaxPayload);
    for (const std::vector<uint8_t>& body : encode_span_stats(spans.spans(), max_body)) {
      if (transport_.send_message(coordinator_, MessageType::Stats, id, body.data(), body.size()) !=
          TransportStatus::Ok) {
        fail_local("cannot send its stats: " + transport_.error());
      }
    }
    const device::RuntimeStats& s = runtime.stats();
    const LinkCounters& c = transport_.counters();
    const StatRecords records{
        {StatKey::TotalMicros, static_cast<uint64_t>(total_us)},
        {StatKey::ComputeMicros, static_cast<uint64_t>(spans.total_us(SpanKind::Compute))},
        {StatKey::WaitMicros,
         static_cast<uint64_t>(spans.total_us(SpanKind::Receive) + spans.total_us(SpanKind::Send))},
        {StatKey::BytesSent, static_cast<uint64_t>(s.bytes_sent)},
        {StatKey::BytesReceived, static_cast<uint64_t>(s.bytes_received)},
        // Frames up to and including the Result, and the Stats frame itself.
        {StatKey::FramesSent, static_cast<uint64_t>(c.frames_sent + 1)},
        {StatKey::FramesReceived, static_cast<uint64_t>(c.frames_received)},
        {StatKey::PeakArenaBytes, static_cast<uint64_t>(s.high_water_bytes)},
        {StatKey::DataFramesSent, static_cast<uint64_t>(s.frames_sent)},
        {StatKey::CreditFramesSent, static_cast<uint64_t>(s.credit_grants)},
    };
    const std::vector<uint8_t> body = encode_stats(records);
    if (transport_.send_message(coordinator_, MessageType::Stats, id, body.data(), body.size()) !=
        TransportStatus::Ok) {
      fail_local("cannot send its stats: " + transport_.error());
    }
    return true;
  }

  const WorkerOptions& o_;
  SocketTransport transport_;
  int listen_fd_;
  int coordinator_ = -1;
  int devices() const { return parsed_.program.participant_count - 1; }

  std::vector<uint32_t> image_;  // the provisioned device image, 4-byte aligned
  std::unique_ptr<device::DeviceImageStorage> storage_;
  device::ParsedImage parsed_;
  std::string name_;
  std::vector<std::string> addresses_;
  bool star_ = false;
  std::vector<int8_t> arena_;
  std::vector<int8_t> scratch_;
};

}  // namespace

void run_worker(const WorkerOptions& options, std::FILE* announce) {
  const SocketAddress address = parse_address(options.listen, "--listen", true);
  const UniqueFd listener = listen_on(address);
  std::fprintf(announce, "listening %s:%u\n", address.host.c_str(),
               static_cast<unsigned>(bound_port(listener.get())));
  std::fflush(announce);
  for (int session = 1; session <= options.sessions; ++session) {
    try {
      if (!Worker(options, listener.get()).run()) {
        if (session == 1) {
          throw Error("worker: no coordinator connected within " +
                          std::to_string(options.idle_timeout.count()) + " ms",
                      kExitFailure);
        }
        return;  // idle after an earlier session: done
      }
    } catch (const Error& e) {
      // A failed session (a peer died, a plan refused) ends the process
      // only if it was the last one it would serve.
      if (session == options.sessions) throw;
      std::fprintf(stderr, "mcusplit: %s (session %d of %d; waiting for the next)\n", e.what(),
                   session, options.sessions);
    }
  }
}

}  // namespace mcusplit::host
