#include "host/socket_transport.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "model/error.h"

namespace mcusplit::host {

using device::DecodeStatus;
using device::FrameHeader;
using device::FrameView;
using device::MessageType;
using device::TransportStatus;

namespace {

constexpr size_t kReadChunk = 64 * 1024;

bool same_box(const core::Box& a, const core::Box& b) {
  return a.c0 == b.c0 && a.c1 == b.c1 && a.y0 == b.y0 && a.y1 == b.y1 && a.x0 == b.x0 &&
         a.x1 == b.x1;
}

}  // namespace

SocketTransport::SocketTransport(std::chrono::milliseconds receive_timeout)
    : receive_timeout_(receive_timeout) {}

void SocketTransport::set_plan_hash(uint64_t send_hash, uint64_t expected_hash) {
  send_hash_ = send_hash;
  expected_hash_ = expected_hash;
}

void SocketTransport::set_max_payload(uint32_t max_payload) {
  max_payload_ = std::clamp<uint32_t>(max_payload, 1, device::kMaxPayloadLimit);
}

void SocketTransport::set_essential(int index) {
  ensure_peer(index).essential = true;
}

void SocketTransport::set_peer_name(int index, std::string name) {
  ensure_peer(index).name = std::move(name);
}

std::string SocketTransport::peer_name(int index) const {
  if (index >= 0 && static_cast<size_t>(index) < peers_.size() &&
      !peers_[static_cast<size_t>(index)].name.empty()) {
    return "'" + peers_[static_cast<size_t>(index)].name + "'";
  }
  return "participant " + std::to_string(index);
}

SocketTransport::Peer* SocketTransport::peer(int index) {
  if (index < 0 || static_cast<size_t>(index) >= peers_.size()) return nullptr;
  Peer& p = peers_[static_cast<size_t>(index)];
  return p.fd.valid() ? &p : nullptr;
}

SocketTransport::Peer& SocketTransport::ensure_peer(int index) {
  if (static_cast<size_t>(index) >= peers_.size()) peers_.resize(static_cast<size_t>(index) + 1);
  return peers_[static_cast<size_t>(index)];
}

bool SocketTransport::fail(int index, const std::string& what) {
  if (error_.empty()) {
    error_ = what;
    error_peer_ = index;
  }
  return false;
}

device::DecoderConfig SocketTransport::decoder_config() const {
  device::DecoderConfig cfg;
  cfg.expected_plan_hash = expected_hash_;
  // Provisioning and control frames may use the default even when the plan's
  // max is smaller.
  cfg.max_payload = std::max(max_payload_, device::kDefaultMaxPayload);
  return cfg;
}

void SocketTransport::connect_peer(int index, UniqueFd fd, Clock::time_point deadline) {
  Peer& p = ensure_peer(index);
  p = Peer{std::move(fd), p.name, {}, 0, 0, 0, false, p.essential, false, {}, {}};
  uint8_t clock[8];
  device::store_le64(clock, static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
  if (send_message(index, MessageType::Ping, device::kNoInference, clock, sizeof clock) !=
      TransportStatus::Ok) {
    throw Error("cannot greet " + peer_name(index) + ": " + error_, kExitFailure);
  }
  WireMessage pong;
  const TransportStatus s =
      wait_control(&pong, deadline, index, static_cast<int>(MessageType::Pong));
  if (s != TransportStatus::Ok) {
    throw Error("no answer from " + peer_name(index) + " when connecting: " +
                    (error_.empty() ? device::transport_status_name(s) : error_),
                kExitFailure);
  }
}

int SocketTransport::accept_peer(UniqueFd fd, Clock::time_point deadline) {
  std::vector<uint8_t> bytes;
  const device::DecoderConfig cfg = decoder_config();
  FrameView f;
  for (;;) {
    const DecodeStatus s = device::decode_frame(bytes.data(), bytes.size(), cfg, &f);
    if (s == DecodeStatus::Ok) break;
    if (s != DecodeStatus::Short) {
      throw Error(std::string("bad first frame on an incoming connection: ") +
                      device::decode_status_name(s),
                  kExitFailure);
    }
    pollfd pfd{fd.get(), POLLIN, 0};
    const int r = ::poll(&pfd, 1, ms_until(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw Error("an incoming connection sent no greeting in time", kExitFailure);
    const size_t old = bytes.size();
    bytes.resize(std::max(f.frame_bytes, old + 1));
    const ssize_t n = ::recv(fd.get(), bytes.data() + old, bytes.size() - old, 0);
    if (n <= 0) throw Error("an incoming connection closed before its greeting", kExitFailure);
    bytes.resize(old + static_cast<size_t>(n));
  }
  const FrameHeader& h = f.header;
  if (h.type != MessageType::Ping || h.sequence != 0 || (self_ >= 0 && h.destination != self_)) {
    throw Error("an incoming connection did not open with a Ping to this participant",
                kExitFailure);
  }
  if (self_ < 0) self_ = h.destination;
  const int index = h.source;
  if (peer(index) != nullptr) {
    throw Error("a second connection from " + peer_name(index), kExitFailure);
  }
  std::vector<uint8_t> echo(f.payload, f.payload + h.payload_bytes);
  Peer& p = ensure_peer(index);
  p = Peer{std::move(fd), p.name, {}, 0, 0, 1, false, p.essential, false, {}, {}};
  p.in.assign(bytes.begin() + static_cast<std::ptrdiff_t>(f.frame_bytes), bytes.end());
  ++counters_.frames_received;
  if (send_message(index, MessageType::Pong, h.inference_id, echo.data(), echo.size()) !=
      TransportStatus::Ok) {
    throw Error("cannot answer " + peer_name(index) + ": " + error_, kExitFailure);
  }
  return index;
}

TransportStatus SocketTransport::write_all(int index, const uint8_t* data, size_t size) {
  Peer* p = peer(index);
  if (p == nullptr) return TransportStatus::BadPeer;
  // A peer that reads nothing for a whole receive timeout is stuck.
  Clock::time_point deadline = Clock::now() + receive_timeout_;
  while (size > 0) {
    const ssize_t n = ::send(p->fd.get(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      deadline = Clock::now() + receive_timeout_;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      fail(index, "cannot send to " + peer_name(index) + ": " + std::strerror(errno));
      return TransportStatus::Failed;
    }
    // Drain incoming links while the peer drains ours.
    const int fd = p->fd.get();
    if (!pump(deadline, fd)) return TransportStatus::Timeout;
    p = peer(index);
    if (!error_.empty() && error_peer_ == index) return TransportStatus::Failed;
  }
  return TransportStatus::Ok;
}

TransportStatus SocketTransport::send_message(int index, MessageType type, uint32_t inference_id,
                                              const uint8_t* body, size_t body_bytes,
                                              uint32_t tensor, const core::Box& box) {
  Peer* p = peer(index);
  if (p == nullptr || self_ < 0) return TransportStatus::BadPeer;
  // Other links stay usable after one fails, e.g. to send Stop over them.
  if (!error_.empty() && error_peer_ == index) return TransportStatus::Failed;
  const bool bulk = device::is_bulk(type);
  if (body_bytes > UINT32_MAX) return TransportStatus::PayloadTooLarge;
  // Provisioning happens before the device knows the plan's max payload.
  const uint32_t max = type == MessageType::Provision ? device::kDefaultMaxPayload : max_payload_;
  if (!bulk && body_bytes > max) return TransportStatus::PayloadTooLarge;
  FrameHeader h;
  h.type = type;
  h.source = static_cast<uint16_t>(self_);
  h.destination = static_cast<uint16_t>(index);
  h.plan_hash = send_hash_;
  h.inference_id = inference_id;
  if (device::carries_box(type)) {
    h.tensor = tensor;
    h.box = box;
  }
  h.message_bytes = static_cast<uint32_t>(body_bytes);
  size_t offset = 0;
  do {
    const size_t chunk = std::min<size_t>(max, body_bytes - offset);
    h.sequence = p->send_sequence;
    h.chunk_offset = static_cast<uint32_t>(offset);
    h.payload_bytes = static_cast<uint32_t>(chunk);
    frame_.resize(device::frame_bytes_for(h.payload_bytes));
    device::EncoderConfig cfg;
    cfg.max_payload = max;
    const size_t n = device::encode_frame(h, body + offset, frame_.data(), frame_.size(), cfg);
    if (n == 0) {
      fail(index, std::string("cannot encode a ") + device::message_type_name(type) + " frame to " +
                      peer_name(index));
      return TransportStatus::Failed;
    }
    const TransportStatus s = write_all(index, frame_.data(), n);
    if (s != TransportStatus::Ok) return s;
    p = peer(index);
    ++p->send_sequence;
    ++counters_.frames_sent;
    if (bulk) counters_.bulk_bytes_sent += static_cast<int64_t>(chunk);
    offset += chunk;
  } while (offset < body_bytes);
  return TransportStatus::Ok;
}

TransportStatus SocketTransport::send_error(int index, device::ErrorCode code,
                                            const std::string& text) {
  std::vector<uint8_t> body(std::min<size_t>(max_payload_, device::kDefaultMaxPayload));
  const size_t n = device::encode_error_payload(code, text.c_str(), body.data(), body.size());
  return send_message(index, MessageType::Error, inference_, body.data(), n);
}

TransportStatus SocketTransport::send(const device::MessageHeader& header, const int8_t* payload) {
  if (header.source != self_) return TransportStatus::BadPeer;
  if (header.payload_bytes != header.box.volume() || header.tensor < 0) {
    return TransportStatus::Failed;
  }
  return send_message(
      header.destination, MessageType::Data, inference_, reinterpret_cast<const uint8_t*>(payload),
      static_cast<size_t>(header.payload_bytes), static_cast<uint32_t>(header.tensor), header.box);
}

TransportStatus SocketTransport::receive(int32_t source, device::MessageHeader* header,
                                         int8_t* payload, int64_t payload_capacity) {
  if (source < 0 || static_cast<size_t>(source) >= peers_.size() ||
      !peers_[static_cast<size_t>(source)].fd.valid()) {
    return TransportStatus::BadPeer;
  }
  const Clock::time_point deadline = Clock::now() + receive_timeout_;
  for (;;) {
    Peer& p = peers_[static_cast<size_t>(source)];
    // Data of an abandoned inference is dropped.
    while (!p.data.empty() && p.data.front().inference_id != inference_) p.data.pop_front();
    if (!p.data.empty()) {
      WireMessage m = std::move(p.data.front());
      p.data.pop_front();
      header->source = source;
      header->destination = self_;
      header->tensor = static_cast<int32_t>(m.tensor);
      header->box = m.box;
      header->payload_bytes = static_cast<int64_t>(m.body.size());
      if (header->payload_bytes > payload_capacity) return TransportStatus::PayloadTooLarge;
      if (!m.body.empty()) std::memcpy(payload, m.body.data(), m.body.size());
      return TransportStatus::Ok;
    }
    if (!error_.empty()) return TransportStatus::Failed;
    if (interrupted_) return TransportStatus::Closed;
    if (p.closed) {
      fail(source, "the connection to " + peer_name(source) + " closed");
      return TransportStatus::Failed;
    }
    if (!pump(deadline)) return TransportStatus::Timeout;
  }
}

TransportStatus SocketTransport::wait_control(WireMessage* out, Clock::time_point deadline,
                                              int source_filter, int type_filter) {
  for (;;) {
    for (auto it = control_.begin(); it != control_.end(); ++it) {
      const bool wanted = (source_filter < 0 || it->source == source_filter) &&
                          (type_filter < 0 || static_cast<int>(it->type) == type_filter);
      // Whoever waits for "anything" from one peer must hear of any failure.
      const bool failure = type_filter < 0 && it->type == MessageType::Error;
      if (wanted || failure) {
        *out = std::move(*it);
        control_.erase(it);
        interrupted_ = std::any_of(control_.begin(), control_.end(), [](const WireMessage& m) {
          return m.type == MessageType::Stop || m.type == MessageType::Error;
        });
        return TransportStatus::Ok;
      }
    }
    if (!error_.empty()) return TransportStatus::Failed;
    if (source_filter >= 0 && static_cast<size_t>(source_filter) < peers_.size() &&
        peers_[static_cast<size_t>(source_filter)].closed) {
      fail(source_filter, "the connection to " + peer_name(source_filter) + " closed");
      return TransportStatus::Closed;
    }
    if (!pump(deadline)) return TransportStatus::Timeout;
  }
}

bool SocketTransport::pump(Clock::time_point deadline, int write_fd) {
  std::vector<pollfd> fds;
  std::vector<int> owners;
  for (size_t i = 0; i < peers_.size(); ++i) {
    const Peer& p = peers_[i];
    if (!p.fd.valid() || p.closed) continue;
    const short events = static_cast<short>(POLLIN | (p.fd.get() == write_fd ? POLLOUT : 0));
    fds.push_back(pollfd{p.fd.get(), events, 0});
    owners.push_back(static_cast<int>(i));
  }
  if (fds.empty()) return fail(-1, "no open connection to wait on");
  for (;;) {
    const int r = ::poll(fds.data(), fds.size(), ms_until(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(-1, std::string("poll failed: ") + std::strerror(errno));
    if (r == 0) return false;
    break;
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_peer(owners[i]);
  }
  return true;
}

void SocketTransport::read_peer(int index) {
  Peer& p = peers_[static_cast<size_t>(index)];
  if (p.in_start > 0 && p.in_start == p.in.size()) {
    p.in.clear();
    p.in_start = 0;
  }
  const size_t old = p.in.size();
  p.in.resize(old + kReadChunk);
  const ssize_t n = ::recv(p.fd.get(), p.in.data() + old, kReadChunk, MSG_DONTWAIT);
  p.in.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    p.closed = true;
  } else if (n == 0) {
    p.closed = true;
  } else {
    decode_frames(index);
  }
  if (p.closed && p.essential) fail(index, "the connection to " + peer_name(index) + " closed");
}

void SocketTransport::decode_frames(int index) {
  Peer& p = peers_[static_cast<size_t>(index)];
  const device::DecoderConfig cfg = decoder_config();
  while (error_.empty() && p.in_start < p.in.size()) {
    FrameView f;
    const DecodeStatus s =
        device::decode_frame(p.in.data() + p.in_start, p.in.size() - p.in_start, cfg, &f);
    if (s == DecodeStatus::Short) break;
    if (s != DecodeStatus::Ok) {
      // The byte stream cannot be trusted to be in step any more.
      fail(index, "bad frame from " + peer_name(index) + ": " + device::decode_status_name(s));
      p.closed = true;
      return;
    }
    accept_frame(index, f);
    p.in_start += f.frame_bytes;
  }
  // Keep the buffer from growing without bound.
  if (p.in_start > 0 && p.in_start * 2 >= p.in.size()) {
    p.in.erase(p.in.begin(), p.in.begin() + static_cast<std::ptrdiff_t>(p.in_start));
    p.in_start = 0;
  }
}

void SocketTransport::accept_frame(int index, const FrameView& f) {
  Peer& p = peers_[static_cast<size_t>(index)];
  const FrameHeader& h = f.header;
  ++counters_.frames_received;
  if (h.source != index || h.destination != self_) {
    fail(index, "a frame from " + peer_name(index) + " names the wrong participants");
    return;
  }
  if (h.sequence != p.receive_sequence) {
    fail(index, "sequence gap from " + peer_name(index) + ": expected " +
                    std::to_string(p.receive_sequence) + ", got " + std::to_string(h.sequence));
    return;
  }
  ++p.receive_sequence;
  if (device::is_bulk(h.type)) {
    counters_.bulk_bytes_received += h.payload_bytes;
    if (h.chunk_offset == 0 && !p.assembling) {
      p.assembling = true;
      p.partial = WireMessage{h.type, index, h.plan_hash, h.inference_id, h.tensor, h.box, {}};
      p.partial.body.reserve(h.message_bytes);
    } else if (!p.assembling || p.partial.type != h.type ||
               h.chunk_offset != p.partial.body.size() || p.partial.tensor != h.tensor ||
               !same_box(p.partial.box, h.box)) {
      fail(index, "out-of-order chunk from " + peer_name(index));
      return;
    }
    p.partial.body.insert(p.partial.body.end(), f.payload, f.payload + h.payload_bytes);
    if (p.partial.body.size() < h.message_bytes) return;
    p.assembling = false;
    if (h.type == MessageType::Data) {
      p.data.push_back(std::move(p.partial));
    } else {
      control_.push_back(std::move(p.partial));
    }
    p.partial = WireMessage{};
    return;
  }
  WireMessage m{h.type, index, h.plan_hash, h.inference_id, 0, core::Box{}, {}};
  m.body.assign(f.payload, f.payload + h.payload_bytes);
  if (h.type == MessageType::Stop || h.type == MessageType::Error) interrupted_ = true;
  control_.push_back(std::move(m));
}

}  // namespace mcusplit::host
