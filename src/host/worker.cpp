#include "host/worker.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "common/error.h"
#include "device/device_image.h"
#include "device/device_session.h"
#include "device/image_auth.h"
#include "device/plan_acceptance.h"
#include "host/provision_message.h"
#include "host/session_clock.h"
#include "host/socket_io.h"
#include "host/socket_transport.h"
#include "host/worker_link.h"

namespace mcusplit::host {
namespace {

using device::MessageType;
using device::TransportStatus;

constexpr std::chrono::milliseconds kSlice{50};
// After a failure: how long to wait for the coordinator to close the links.
constexpr std::chrono::milliseconds kGoodbye{1000};

class Worker {
 public:
  Worker(const WorkerOptions& o, int listen_fd)
      : o_(o), transport_(o.receive_timeout), listen_fd_(listen_fd) {
    if (o.key) transport_.set_key(*o.key);
  }

  // One session: a coordinator connects, provisions, runs, says Stop. False
  // if no coordinator came within the idle timeout.
  bool run() {
    UniqueFd fd = accept_until(listen_fd_, Clock::now() + o_.idle_timeout);
    if (!fd.valid()) return false;
    try {
      coordinator_ = transport_.accept_peer(std::move(fd), Clock::now() + o_.setup_timeout);
      transport_.set_peer_name(coordinator_, "coordinator");
      transport_.set_essential(coordinator_);
      if (!provision() || !connect_peers()) return true;
      serve();
    } catch (const Error&) {
      // As the firmware does: let the coordinator read the Error frame
      // before the links close.
      transport_.linger(Clock::now() + kGoodbye);
      throw;
    }
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
    device::Reason why;
    try {
      const Provisioning p = decode_provisioning(m.body);
      // The image's int32 arrays need a 4-byte aligned start: a vector of
      // uint32_t gives it.
      image_.assign((p.image.size() + 3) / 4, 0);
      std::memcpy(image_.data(), p.image.data(), p.image.size());
      const auto* bytes = reinterpret_cast<const uint8_t*>(image_.data());
      // Authentic before a byte of it is parsed.
      size_t image_bytes = 0;
      const device::ImageAuthStatus auth = device::check_image_tag(
          bytes, p.image.size(), o_.key ? o_.key->data() : nullptr, &image_bytes);
      storage_ = std::make_unique<device::DeviceImageStorage>();
      device::ImageStatus status = device::ImageStatus::Ok;
      if (auth != device::ImageAuthStatus::Ok) {
        why.add("refused its image: ").add(device::image_auth_status_text(auth));
      } else if ((status = device::parse_device_image(bytes, image_bytes, storage_.get(),
                                                      &parsed_)) != device::ImageStatus::Ok) {
        device::add_image_problem(why, status, parsed_);
      } else {
        name_.assign(parsed_.device_name, parsed_.device_name_bytes);
        device::DeviceCapacity capacity;
        capacity.arena_bytes = o_.ram_bytes;
        capacity.holder = "worker";
        capacity.setting = "--ram";
        if (device::greeting_matches(parsed_, static_cast<uint16_t>(m.source),
                                     static_cast<uint16_t>(transport_.self()), m.plan_hash, &why) &&
            device::image_fits(parsed_, capacity, &why)) {
          const int devices = parsed_.program.participant_count - 1;
          star_ = p.addresses.empty();
          if (!star_ && static_cast<int>(p.addresses.size()) != devices) {
            why.add("the provisioning lists ").dec(p.addresses.size());
            why.add(" device addresses for ").dec(static_cast<uint64_t>(devices)).add(" devices");
          }
          addresses_ = p.addresses;
          for (size_t i = 0; i < p.names.size(); ++i) {
            transport_.set_peer_name(static_cast<int>(i), p.names[i]);
          }
        }
      }
    } catch (const Error& e) {
      why.add(e.what());
    }
    if (why.size() > 0) {
      device::Reason text;
      device::refusal_text(name_.c_str(), transport_.self(), why, &text);
      transport_.send_error(coordinator_, device::ErrorCode::BadProvision, text.c_str());
      throw Error(text.c_str(), kExitFailure);
    }
    const device::DeviceProgram& program = parsed_.program;
    transport_.set_plan_hash(parsed_.plan_hash, parsed_.plan_hash);
    transport_.set_max_payload(parsed_.max_payload_bytes);
    arena_.assign(static_cast<size_t>(program.arena_bytes), 0);
    // One chunk payload for the runtime, and room for a whole Stats body
    // after a run.
    frame_.assign(
        static_cast<size_t>(std::max<int64_t>(
            device::frame_buffer_bytes(program, static_cast<int32_t>(parsed_.max_payload_bytes)),
            device::kDefaultMaxPayload)),
        0);
    spans_.assign(static_cast<size_t>(std::max(program.op_count, 1)), device::SpanRecord{});
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
      // The coordinator gone is the cause, not the peers.
      if (transport_.error_peer() == coordinator_) fail_local(transport_.error());
      fail_reported(device::ErrorCode::Unspecified,
                    std::string("cannot reach its peers: ") + e.what());
    }
    return true;
  }

  // The session every device runs (device/device_session.h), until the
  // coordinator's Stop; any other end fails the worker.
  void serve() {
    WorkerLink link(transport_, coordinator_);
    SteadySessionClock clock;
    device::SessionMemory memory;
    memory.arena = arena_.data();
    memory.arena_bytes = static_cast<int64_t>(arena_.size());
    memory.frame = frame_.data();
    memory.frame_bytes = static_cast<int64_t>(frame_.size());
    memory.records.spans = spans_.data();
    memory.records.span_capacity = static_cast<uint32_t>(spans_.size());
    auto session = std::make_unique<device::DeviceSession>(
        link, clock, memory, static_cast<uint32_t>(o_.receive_timeout.count()));
    device::Reason why;
    if (!session->load(parsed_.program, name_.c_str(), &why)) {
      device::Reason text;
      device::refusal_text(name_.c_str(), transport_.self(), why, &text);
      transport_.send_error(coordinator_, device::ErrorCode::BadProvision, text.c_str());
      throw Error(text.c_str(), kExitFailure);
    }
    const device::SessionEnd end = session->serve(static_cast<uint32_t>(o_.idle_timeout.count()));
    if (end != device::SessionEnd::Shutdown) throw Error(session->message(), kExitFailure);
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
  std::vector<int8_t> frame_;
  std::vector<device::SpanRecord> spans_;
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
