#include "host/ethernet_bridge.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include "common/error.h"
#include "device/link_reliability.h"
#include "host/ethernet_addresses.h"

namespace mcusplit::host {
namespace {

using device::FrameHeader;
using device::FrameView;
using device::MessageType;

// A received Ethernet frame larger than this is cut (and then fails to
// decode); libvdeplug's own bound is 9,234 bytes.
constexpr size_t kReceiveBufferBytes = size_t{16} * 1024;
// While frames are in flight, the loop looks at the clock at least this
// often, so a dead link is noticed soon after its time is up.
constexpr int kInFlightPollMs = 50;
// Frames taken from the switch per turn of the loop, so the connections get
// their turn under a flood.
constexpr int kFramesPerTurn = 64;
constexpr size_t kReadChunk = size_t{64} * 1024;

uint32_t now_ms() {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
          .count());
}

device::DecoderConfig decoder_config() {
  device::DecoderConfig cfg;
  cfg.max_payload = kEthernetMaxPayload;  // any plan's, and no more than fits
  return cfg;
}

// `frame` (a whole protocol frame) after an Ethernet header.
std::vector<uint8_t> ethernet_frame(const device::MacAddress& to, const device::MacAddress& from,
                                    const uint8_t* frame, size_t size) {
  std::vector<uint8_t> out(device::kEthernetHeaderBytes + size);
  device::encode_ethernet_header(to, from, out.data());
  std::memcpy(out.data() + device::kEthernetHeaderBytes, frame, size);
  return out;
}

BridgeDrop drop_reason(device::EthernetVerdict v) {
  switch (v) {
    case device::EthernetVerdict::Short:
      return BridgeDrop::Short;
    case device::EthernetVerdict::WrongType:
      return BridgeDrop::WrongType;
    case device::EthernetVerdict::NotAddressed:
      return BridgeDrop::NotAddressed;
    case device::EthernetVerdict::UnknownSource:
    case device::EthernetVerdict::Ok:
      break;
  }
  return BridgeDrop::UnknownSource;
}

}  // namespace

const char* bridge_drop_name(BridgeDrop reason) {
  switch (reason) {
    case BridgeDrop::Short:
      return "too short";
    case BridgeDrop::WrongType:
      return "wrong EtherType";
    case BridgeDrop::NotAddressed:
      return "not addressed here";
    case BridgeDrop::UnknownSource:
      return "unknown source MAC";
    case BridgeDrop::BadFrame:
      return "bad frame";
  }
  return "unknown";
}

EthernetBridge::EthernetBridge(const EthernetBridgeOptions& options)
    : dead_after_(options.dead_after), plug_(options.switch_path, "mcusplit coordinator") {
  const int n = static_cast<int>(options.device_names.size());
  if (n < 1) throw Error("an Ethernet bridge needs at least one device", kExitFailure);
  for (int i = 0; i < n; ++i) {
    links_.emplace_back(options.window);
    DeviceLink& l = links_.back();
    l.name = options.device_names[static_cast<size_t>(i)];
    l.listener = listen_on(SocketAddress{"127.0.0.1", 0});
    addresses_.push_back(SocketAddress{"127.0.0.1", bound_port(l.listener.get())});
    macs_.push_back(device_mac(i));
  }
  counters_.resize(static_cast<size_t>(n));
  failures_.resize(static_cast<size_t>(n));
  acknowledged_.resize(static_cast<size_t>(n));
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) {
    throw Error(std::string("cannot start the Ethernet bridge: ") + std::strerror(errno),
                kExitFailure);
  }
  thread_ = std::thread([this] { run(); });
}

EthernetBridge::~EthernetBridge() {
  stopping_ = true;
  const uint64_t one = 1;
  while (::write(wake_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
  thread_.join();
}

EthernetLinkCounters EthernetBridge::counters(int device) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return counters_.at(static_cast<size_t>(device));
}

EthernetLinkCounters EthernetBridge::unknown_source_counters() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return unknown_;
}

std::string EthernetBridge::device_address(int device) const {
  return mac_text(macs_.at(static_cast<size_t>(device)));
}

void EthernetBridge::reset_figures() {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (EthernetLinkCounters& c : counters_) c = EthernetLinkCounters{};
  unknown_ = EthernetLinkCounters{};
}

LinkLayerFigures EthernetBridge::figures() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  LinkLayerFigures f;
  for (const EthernetLinkCounters& c : counters_) {
    f.retransmissions.push_back(c.retransmissions);
    std::vector<double> rtt = c.round_trips;
    const auto quantile = [&rtt](size_t percent) {
      if (rtt.empty()) return 0.0;
      const auto at = static_cast<std::ptrdiff_t>(rtt.size() * percent / 100);
      std::nth_element(rtt.begin(), rtt.begin() + at, rtt.end());
      return rtt[static_cast<size_t>(at)];
    };
    f.ack_round_trip_s.push_back(quantile(50));
    f.ack_round_trip_p10_s.push_back(quantile(10));
    f.frames_relayed += c.frames_relayed;
    f.bytes_relayed += c.bytes_relayed;
  }
  return f;
}

std::string EthernetBridge::failure(int device) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (device < 0 || static_cast<size_t>(device) >= failures_.size()) return "";
  return failures_[static_cast<size_t>(device)];
}

int64_t EthernetBridge::acknowledged(int device) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return acknowledged_.at(static_cast<size_t>(device));
}

void EthernetBridge::run() {
  std::vector<uint8_t> buffer(kReceiveBufferBytes);
  try {
    while (!stopping_) serve(buffer);
  } catch (const std::exception& e) {
    // Nothing may escape the thread; every link is then down, saying why.
    for (int i = 0; i < device_count(); ++i) {
      fail_link(i, std::string("the Ethernet bridge failed: ") + e.what());
    }
  }
}

// One turn: waits for the switch, the connections or a timer, then does
// what is due.
void EthernetBridge::serve(std::vector<uint8_t>& buffer) {
  enum class Source { Wake, Switch, Listener, Connection };
  std::vector<pollfd> fds;
  std::vector<std::pair<Source, int>> owners;
  const auto watch = [&](int fd, short events, Source source, int device) {
    fds.push_back(pollfd{fd, events, 0});
    owners.emplace_back(source, device);
  };
  watch(wake_.get(), POLLIN, Source::Wake, -1);
  watch(plug_.fd(), POLLIN, Source::Switch, -1);
  int timeout = -1;
  const uint32_t now = now_ms();
  for (int i = 0; i < device_count(); ++i) {
    DeviceLink& l = links_[static_cast<size_t>(i)];
    if (l.listener.valid()) watch(l.listener.get(), POLLIN, Source::Listener, i);
    if (l.connection.valid()) {
      const bool writing = l.written < l.to_coordinator.size();
      watch(l.connection.get(), static_cast<short>(POLLIN | (writing ? POLLOUT : 0)),
            Source::Connection, i);
    }
    const int64_t wait = l.outbound.wait_ms(now);
    if (wait >= 0) {
      const int ms = static_cast<int>(std::min<int64_t>(wait, kInFlightPollMs));
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
  }
  const int r = ::poll(fds.data(), fds.size(), timeout);
  if (r < 0 && errno != EINTR) throw Error(std::string("poll: ") + std::strerror(errno));
  for (size_t k = 0; r > 0 && k < fds.size(); ++k) {
    if (fds[k].revents == 0) continue;
    const auto [source, device] = owners[k];
    switch (source) {
      case Source::Wake: {
        uint64_t count = 0;
        while (::read(wake_.get(), &count, sizeof count) < 0 && errno == EINTR) {
        }
        break;
      }
      case Source::Switch:
        read_switch(buffer);
        break;
      case Source::Listener:
        accept_coordinator(device);
        break;
      case Source::Connection:
        if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_coordinator(device);
        if ((fds[k].revents & POLLOUT) != 0) write_coordinator(device);
        break;
    }
  }
  const uint32_t later = now_ms();
  for (int i = 0; i < device_count(); ++i) check_link(i, later);
}

void EthernetBridge::read_switch(std::vector<uint8_t>& buffer) {
  for (int k = 0; k < kFramesPerTurn; ++k) {
    const ssize_t n = plug_.receive(buffer.data(), buffer.size());
    if (n < 0) throw Error("the Ethernet switch is gone", kExitFailure);
    if (n == 0) return;
    on_ethernet_frame(buffer.data(), static_cast<size_t>(n));
  }
}

void EthernetBridge::on_ethernet_frame(const uint8_t* data, size_t size) {
  const int from = size >= device::kEthernetHeaderBytes ? device_of(device::source_mac(data)) : -1;
  if (from >= 0) links_[static_cast<size_t>(from)].heard = true;
  const device::EthernetVerdict v = device::check_ethernet_header(data, size, coordinator_mac());
  if (v != device::EthernetVerdict::Ok) return count_drop(from, drop_reason(v));
  if (from < 0) return count_drop(from, BridgeDrop::UnknownSource);
  const uint8_t* raw = data + device::kEthernetHeaderBytes;
  FrameView f;
  const auto coordinator = static_cast<uint16_t>(device_count());
  if (device::decode_frame(raw, size - device::kEthernetHeaderBytes, decoder_config(), &f) !=
          device::DecodeStatus::Ok ||
      f.header.source != from || f.header.destination > coordinator) {
    return count_drop(from, BridgeDrop::BadFrame);
  }
  const FrameHeader& h = f.header;
  if (h.destination != coordinator) return relay(from, h, data, size, f.frame_bytes);
  if (h.type == MessageType::Ack) {
    RetransmitQueue& outbound = links_[static_cast<size_t>(from)].outbound;
    const size_t popped = outbound.acknowledge(device::ack_sequence(f.payload), now_ms());
    if (popped > 0) {
      const std::vector<double> round_trips = outbound.take_round_trips();
      const std::lock_guard<std::mutex> lock(mutex_);
      acknowledged_[static_cast<size_t>(from)] += static_cast<int64_t>(popped);
      std::vector<double>& kept = counters_[static_cast<size_t>(from)].round_trips;
      kept.insert(kept.end(), round_trips.begin(), round_trips.end());
    }
    return;
  }
  take(from, f, raw);
}

// A frame of `device`'s stream to the coordinator.
void EthernetBridge::take(int device, const FrameView& f, const uint8_t* raw) {
  DeviceLink& l = links_[static_cast<size_t>(device)];
  const FrameHeader& h = f.header;
  switch (device::classify_arrival(h.sequence, l.expected)) {
    case device::Arrival::New:
      if (!l.connection_done)
        l.to_coordinator.insert(l.to_coordinator.end(), raw, raw + f.frame_bytes);
      ++l.expected;
      send_ack(device, h, h.sequence);
      if (l.connection.valid()) write_coordinator(device);
      return;
    case device::Arrival::Duplicate: {
      const std::lock_guard<std::mutex> lock(mutex_);
      ++counters_[static_cast<size_t>(device)].duplicates_dropped;
      break;
    }
    case device::Arrival::Ahead:
      break;
  }
  // Whatever it was, the device learns what is held (nothing yet: an Ack of
  // 0xFFFFFFFF, which covers no frame).
  send_ack(device, h, l.expected - 1);
}

void EthernetBridge::relay(int from, const FrameHeader& h, const uint8_t* data, size_t size,
                           size_t frame_bytes) {
  std::vector<uint8_t> out(data, data + size);
  device::encode_ethernet_header(macs_[h.destination], coordinator_mac(), out.data());
  plug_.send(out.data(), out.size());
  if (h.type == MessageType::Ack) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  EthernetLinkCounters& c = counters_[static_cast<size_t>(from)];
  ++c.frames_relayed;
  c.bytes_relayed += static_cast<int64_t>(frame_bytes);
}

void EthernetBridge::send_ack(int device, const FrameHeader& about, uint32_t acked) {
  FrameHeader a;
  a.type = MessageType::Ack;
  a.source = static_cast<uint16_t>(device_count());
  a.destination = static_cast<uint16_t>(device);
  a.plan_hash = about.plan_hash;
  a.inference_id = about.inference_id;
  a.sequence = 0;  // Acks are no part of the stream
  a.message_bytes = device::kAckPayloadBytes;
  a.payload_bytes = device::kAckPayloadBytes;
  uint8_t payload[device::kAckPayloadBytes];
  device::encode_ack_payload(acked, payload);
  uint8_t
      out[device::kEthernetHeaderBytes + device::kFrameOverheadBytes + device::kAckPayloadBytes];
  device::encode_ethernet_header(macs_[static_cast<size_t>(device)], coordinator_mac(), out);
  const size_t n = device::encode_frame(a, payload, out + device::kEthernetHeaderBytes,
                                        sizeof out - device::kEthernetHeaderBytes);
  if (n > 0) plug_.send(out, device::kEthernetHeaderBytes + n);
}

void EthernetBridge::accept_coordinator(int device) {
  DeviceLink& l = links_[static_cast<size_t>(device)];
  UniqueFd fd = accept_until(l.listener.get(), Clock::now());
  if (!fd.valid()) return;
  // One connection per device: no more are taken.
  l.listener.reset();
  if (l.connection_done) return;  // its link died meanwhile
  l.connection = std::move(fd);
  write_coordinator(device);
}

void EthernetBridge::read_coordinator(int device) {
  DeviceLink& l = links_[static_cast<size_t>(device)];
  const size_t old = l.from_coordinator.size();
  l.from_coordinator.resize(old + kReadChunk);
  const ssize_t n =
      ::recv(l.connection.get(), l.from_coordinator.data() + old, kReadChunk, MSG_DONTWAIT);
  l.from_coordinator.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  // Every whole frame goes to its device's queue, sequenced as it is.
  const device::DecoderConfig cfg = decoder_config();
  size_t at = 0;
  for (;;) {
    FrameView f;
    const device::DecodeStatus s = device::decode_frame(l.from_coordinator.data() + at,
                                                        l.from_coordinator.size() - at, cfg, &f);
    if (s == device::DecodeStatus::Short) break;
    const FrameHeader& h = f.header;
    if (s != device::DecodeStatus::Ok || h.source != device_count() ||
        h.destination >= device_count() || h.type == MessageType::Ack) {
      fail_link(device, std::string("the coordinator sent device '") + l.name +
                            "' a frame the Ethernet cannot carry (" +
                            (s == device::DecodeStatus::Ok ? "misaddressed"
                                                           : device::decode_status_name(s)) +
                            ")");
      return;
    }
    const uint8_t* raw = l.from_coordinator.data() + at;
    DeviceLink& to = links_[h.destination];
    if (!to.dead) {
      to.outbound.push(h.sequence,
                       ethernet_frame(macs_[h.destination], coordinator_mac(), raw, f.frame_bytes));
    }
    at += f.frame_bytes;
  }
  l.from_coordinator.erase(l.from_coordinator.begin(),
                           l.from_coordinator.begin() + static_cast<std::ptrdiff_t>(at));
  // The end of the coordinator's side (what it sent is still delivered).
  if (n <= 0) close_connection(device);
}

void EthernetBridge::write_coordinator(int device) {
  DeviceLink& l = links_[static_cast<size_t>(device)];
  while (l.connection.valid() && l.written < l.to_coordinator.size()) {
    const ssize_t n = ::send(l.connection.get(), l.to_coordinator.data() + l.written,
                             l.to_coordinator.size() - l.written, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      l.written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // poll says when
    close_connection(device);
    return;
  }
  if (l.written == l.to_coordinator.size()) {
    l.to_coordinator.clear();
    l.written = 0;
  }
}

void EthernetBridge::close_connection(int device) {
  DeviceLink& l = links_[static_cast<size_t>(device)];
  l.connection.reset();
  l.listener.reset();
  l.connection_done = true;
  l.to_coordinator.clear();
  l.written = 0;
  l.from_coordinator.clear();
}

void EthernetBridge::check_link(int device, uint32_t now) {
  DeviceLink& l = links_[static_cast<size_t>(device)];
  if (l.dead) return;
  const auto limit = static_cast<uint32_t>(dead_after_.count());
  if (l.outbound.dead(now, limit)) {
    // A device never heard from has no NIC up (not an Ethernet firmware?).
    fail_link(
        device,
        "the Ethernet link to device '" + l.name + "' carried no acknowledgement for " +
            std::to_string(dead_after_.count()) + " ms (" +
            std::to_string(l.outbound.retransmissions_since_progress()) + " retransmissions)" +
            (l.heard
                 ? ""
                 : "; no frame ever came from " + mac_text(macs_[static_cast<size_t>(device)])));
    return;
  }
  const int64_t before = l.outbound.retransmissions();
  l.outbound.pump(
      now, [&](const std::vector<uint8_t>& frame) { plug_.send(frame.data(), frame.size()); });
  const int64_t again = l.outbound.retransmissions() - before;
  if (again > 0) {
    const std::lock_guard<std::mutex> lock(mutex_);
    counters_[static_cast<size_t>(device)].retransmissions += again;
  }
}

void EthernetBridge::fail_link(int device, const std::string& why) {
  {
    // Said before the connection closes: whoever sees it close asks why.
    const std::lock_guard<std::mutex> lock(mutex_);
    std::string& failure = failures_[static_cast<size_t>(device)];
    if (failure.empty()) failure = why;
  }
  DeviceLink& l = links_[static_cast<size_t>(device)];
  l.dead = true;
  l.outbound.clear();
  close_connection(device);
}

void EthernetBridge::count_drop(int device, BridgeDrop reason) {
  const std::lock_guard<std::mutex> lock(mutex_);
  EthernetLinkCounters& c = device < 0 ? unknown_ : counters_[static_cast<size_t>(device)];
  ++c.dropped[static_cast<size_t>(reason)];
}

int EthernetBridge::device_of(const device::MacAddress& mac) const {
  for (size_t i = 0; i < macs_.size(); ++i) {
    if (macs_[i] == mac) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace mcusplit::host
