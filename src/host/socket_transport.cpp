#include "host/socket_transport.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "device/data_frame.h"

namespace mcusplit::host {

using device::DecodeStatus;
using device::FrameHeader;
using device::FrameView;
using device::MessageType;
using device::TransportStatus;

namespace {

constexpr size_t kReadChunk = 64 * 1024;

// How many bytes to skip at the start of data[0, size), where no sound frame
// header begins: at least one, then up to the next "MSPF" (or a prefix of it
// at the very end, which more bytes may complete).
size_t garbage_length(const uint8_t* data, size_t size) {
  size_t skip = 1;
  for (; skip < size; ++skip) {
    const size_t n = std::min(size - skip, sizeof(device::kFrameMagic));
    if (std::memcmp(data + skip, device::kFrameMagic, n) == 0) break;
  }
  return skip;
}

// A frame refused for its authentication tag (or its lack of one).
bool tag_refused(DecodeStatus s) {
  return s == DecodeStatus::MissingTag || s == DecodeStatus::UnexpectedTag ||
         s == DecodeStatus::BadTag;
}

// True if the header at the start of data is sound (its CRC matched): the
// frame is real even if it is refused.
bool header_sound(const uint8_t* data, size_t size, const device::DecoderConfig& cfg) {
  FrameHeader h;
  size_t frame_bytes = 0;
  const DecodeStatus s = device::decode_header(data, size, cfg, &h, &frame_bytes);
  return s != DecodeStatus::BadMagic && s != DecodeStatus::BadVersion &&
         s != DecodeStatus::BadCrc && s != DecodeStatus::Short;
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
  ensure_link(index).essential = true;
}

void SocketTransport::set_peer_name(int index, std::string name) {
  ensure_link(index).name = std::move(name);
}

void SocketTransport::set_route(int participant, int via) {
  if (static_cast<size_t>(participant) >= route_.size()) {
    route_.resize(static_cast<size_t>(participant) + 1, -1);
  }
  route_[static_cast<size_t>(participant)] = via;
  ensure_link(via).any_source = true;
}

void SocketTransport::set_serial(int index, bool serial) {
  ensure_link(index).serial = serial;
}

int64_t SocketTransport::dropped_bytes(int index) const {
  if (index < 0 || static_cast<size_t>(index) >= links_.size()) return 0;
  return links_[static_cast<size_t>(index)].dropped_bytes;
}

std::string SocketTransport::peer_name(int index) const {
  if (index >= 0 && static_cast<size_t>(index) < links_.size() &&
      !links_[static_cast<size_t>(index)].name.empty()) {
    return "'" + links_[static_cast<size_t>(index)].name + "'";
  }
  return "participant " + std::to_string(index);
}

SocketTransport::Link* SocketTransport::link(int index) {
  if (index < 0 || static_cast<size_t>(index) >= links_.size()) return nullptr;
  Link& l = links_[static_cast<size_t>(index)];
  return l.fd.valid() ? &l : nullptr;
}

SocketTransport::Link& SocketTransport::ensure_link(int index) {
  if (static_cast<size_t>(index) >= links_.size()) links_.resize(static_cast<size_t>(index) + 1);
  return links_[static_cast<size_t>(index)];
}

int SocketTransport::route(int participant) const {
  if (participant >= 0 && static_cast<size_t>(participant) < route_.size() &&
      route_[static_cast<size_t>(participant)] >= 0) {
    return route_[static_cast<size_t>(participant)];
  }
  return participant;
}

bool SocketTransport::fail(int index, const std::string& what) {
  // A link that broke the protocol is read no further; the others are.
  if (index >= 0 && static_cast<size_t>(index) < links_.size()) {
    links_[static_cast<size_t>(index)].broken = true;
  }
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

device::FrameAuth SocketTransport::auth(const Link& l) const {
  device::FrameAuth a;
  if (key_) {
    a.key = key_->data();
    a.nonce = l.nonce;
    a.mac = openssl_prefixed_hmac_sha256;
  }
  return a;
}

SocketTransport::Link& SocketTransport::attach(int index, UniqueFd fd) {
  Link& l = ensure_link(index);
  Link fresh;
  fresh.fd = std::move(fd);
  fresh.name = l.name;
  fresh.essential = l.essential;
  fresh.any_source = l.any_source;
  fresh.serial = l.serial;
  l = std::move(fresh);
  return l;
}

void SocketTransport::attach_peer(int index, UniqueFd fd) {
  attach(index, std::move(fd));
  send_sequences_.set(static_cast<uint32_t>(index), 0);
  inbound_.restart_stream(static_cast<uint16_t>(index), 0);
}

void SocketTransport::connect_peer(int index, UniqueFd fd, Clock::time_point deadline) {
  attach(index, std::move(fd));
  send_sequences_.set(static_cast<uint32_t>(index), 0);
  inbound_.restart_stream(static_cast<uint16_t>(index), 0);
  if (send_greeting(index) != TransportStatus::Ok) {
    throw Error("cannot greet " + peer_name(index) + ": " + error_, kExitFailure);
  }
  // Anything but the Pong (an Error refusing the greeting) ends the wait.
  WireMessage answer;
  const TransportStatus s = wait_control(&answer, deadline, index);
  if (s != TransportStatus::Ok) {
    // The link's own words (a frame refused for its tag) say more.
    throw Error(error_.empty() ? "no answer from " + peer_name(index) +
                                     " when connecting: " + device::transport_status_name(s)
                               : error_,
                kExitFailure);
  }
  if (answer.type == MessageType::Error) {
    throw Error(
        peer_name(index) + " refused the greeting: " +
            std::string(answer.body.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(
                                                  device::kErrorCodeBytes, answer.body.size())),
                        answer.body.end()),
        kExitFailure);
  }
  if (answer.type != MessageType::Pong) {
    throw Error(peer_name(index) + " answered the greeting with a " +
                    device::message_type_name(answer.type),
                kExitFailure);
  }
}

TransportStatus SocketTransport::send_greeting(int index) {
  Link* l = link(index);
  if (l == nullptr) return TransportStatus::BadPeer;
  // With a key the Ping carries the challenge the Pong must echo; without,
  // the time it was sent (a round trip's measure for whoever wants it).
  uint8_t greeting[8];
  if (key_) {
    const uint64_t challenge = random_u64();
    l->challenge = challenge;
    device::store_le64(greeting, challenge);
  } else {
    device::store_le64(greeting, static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
  }
  return send_message(index, MessageType::Ping, device::kNoInference, greeting, sizeof greeting);
}

void SocketTransport::take_greeting_answer(int index, const FrameView& f) {
  Link& l = links_[static_cast<size_t>(index)];
  const uint64_t challenge = *l.challenge;
  l.challenge.reset();
  // Tagged under nonce 0 like any greeting frame, so only a holder of the
  // key could have made it; echoing the challenge makes it this
  // connection's answer, not one replayed from another.
  if (f.header.payload_bytes != 16 || device::load_le64(f.payload) != challenge) {
    fail(index, "the greeting's answer from " + peer_name(index) + " does not echo its challenge");
    return;
  }
  l.nonce = challenge ^ device::load_le64(f.payload + 8);
}

int SocketTransport::accept_peer(UniqueFd fd, Clock::time_point deadline) {
  std::vector<uint8_t> bytes;
  const device::DecoderConfig cfg = decoder_config();
  const device::FrameAuth greeting_auth = auth(Link{});  // nonce 0
  FrameView f;
  for (;;) {
    const DecodeStatus s =
        device::decode_frame(bytes.data(), bytes.size(), cfg, &f, &greeting_auth);
    if (s == DecodeStatus::Ok) break;
    if (tag_refused(s)) refuse_greeting(std::move(fd), f.header, s);
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
  const bool to_self = !inbound_.self_known() || h.destination == inbound_.self();
  if (h.type != MessageType::Ping || h.sequence != 0 || !to_self) {
    throw Error("an incoming connection did not open with a Ping to this participant",
                kExitFailure);
  }
  if (!inbound_.self_known()) inbound_.set_self(h.destination);
  const int index = h.source;
  if (link(index) != nullptr) {
    throw Error("a second connection from " + peer_name(index), kExitFailure);
  }
  // The greeting opens the peer's stream: frame 0, a control message.
  inbound_.restart_stream(h.source, 0);
  if (inbound_.accept(h, f.payload, true).kind != device::InboundKind::Control) {
    throw Error(
        "an incoming connection greeted from an unknown participant " + std::to_string(index),
        kExitFailure);
  }
  std::vector<uint8_t> echo(f.payload, f.payload + h.payload_bytes);
  uint64_t nonce = 0;
  if (key_) {
    // The challenge echoed, then ours: the link's nonce is both.
    if (echo.size() != 8) {
      throw Error("an incoming connection's greeting carries no challenge", kExitFailure);
    }
    const uint64_t own = random_u64();
    nonce = device::load_le64(echo.data()) ^ own;
    echo.resize(16);
    device::store_le64(echo.data() + 8, own);
  }
  Link& l = attach(index, std::move(fd));
  l.in.assign(bytes.begin() + static_cast<std::ptrdiff_t>(f.frame_bytes), bytes.end());
  send_sequences_.set(static_cast<uint32_t>(index), 0);
  if (send_message(index, MessageType::Pong, h.inference_id, echo.data(), echo.size()) !=
      TransportStatus::Ok) {
    throw Error("cannot answer " + peer_name(index) + ": " + error_, kExitFailure);
  }
  // The Pong went under nonce 0; the peer sends nothing under the link's
  // nonce before it has the Pong.
  links_[static_cast<size_t>(index)].nonce = nonce;
  return index;
}

void SocketTransport::refuse_greeting(UniqueFd fd, const FrameHeader& h, DecodeStatus why) {
  const std::string text = std::string("refused a greeting: ") + device::decode_status_name(why);
  if (!inbound_.self_known()) inbound_.set_self(h.destination);
  if (h.type == MessageType::Ping && h.source != h.destination &&
      device::StreamSequences::known(static_cast<uint32_t>(h.source))) {
    // Said in this side's own terms (tagged if it has a key): the peer's
    // decoder then names the mismatch from its side.
    attach(h.source, std::move(fd));
    send_sequences_.set(h.source, 0);
    send_error(h.source, device::ErrorCode::BadFrame, text);
  }
  throw Error(text, kExitFailure);
}

TransportStatus SocketTransport::flush(int index, bool wait) {
  Link* l = link(index);
  if (l == nullptr) return TransportStatus::BadPeer;
  // A peer that reads nothing for a whole receive timeout is stuck.
  Clock::time_point deadline = Clock::now() + receive_timeout_;
  while (l->out_start < l->out.size()) {
    const ssize_t n = ::send(l->fd.get(), l->out.data() + l->out_start,
                             l->out.size() - l->out_start, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      l->out_start += static_cast<size_t>(n);
      deadline = Clock::now() + receive_timeout_;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      l->closed = true;
      fail(index, "cannot send to " + peer_name(index) + ": " + std::strerror(errno));
      return TransportStatus::Failed;
    }
    if (!wait) return TransportStatus::Ok;
    // Drain incoming links while the peer drains ours (pump also writes).
    if (!pump(deadline)) return TransportStatus::Timeout;
    l = link(index);
    if (l == nullptr) return TransportStatus::BadPeer;
    if (l->closed) return TransportStatus::Failed;
  }
  l->out.clear();
  l->out_start = 0;
  return TransportStatus::Ok;
}

TransportStatus SocketTransport::send_frame(FrameHeader h, const uint8_t* payload) {
  const int destination = h.destination;
  const int via = route(destination);
  Link* l = link(via);
  if (l == nullptr || self() < 0) return TransportStatus::BadPeer;
  // A link whose incoming bytes went wrong (a bad frame) can still carry
  // the Error that reports it; one that closed cannot.
  if (l->closed) return TransportStatus::Failed;
  h.source = inbound_.self();
  h.plan_hash = send_hash_;
  if (!device::StreamSequences::known(static_cast<uint32_t>(destination))) {
    return TransportStatus::BadPeer;
  }
  h.sequence = send_sequences_.next(static_cast<uint32_t>(destination));
  const device::FrameAuth a = auth(*l);
  frame_.resize(device::frame_bytes_for(h.payload_bytes, a.key != nullptr));
  device::EncoderConfig cfg;
  cfg.max_payload = std::max(max_payload_, device::kDefaultMaxPayload);
  const size_t n = device::encode_frame(h, payload, frame_.data(), frame_.size(), cfg, &a);
  if (n == 0) {
    fail(via, std::string("cannot encode a ") + device::message_type_name(h.type) + " frame to " +
                  peer_name(destination));
    return TransportStatus::Failed;
  }
  l->out.insert(l->out.end(), frame_.begin(), frame_.begin() + static_cast<std::ptrdiff_t>(n));
  send_sequences_.advance(static_cast<uint32_t>(destination));
  ++counters_.frames_sent;
  if (device::is_bulk(h.type)) counters_.bulk_bytes_sent += h.payload_bytes;
  return flush(via, true);
}

TransportStatus SocketTransport::send_message(int index, MessageType type, uint32_t inference_id,
                                              const uint8_t* body, size_t body_bytes,
                                              uint32_t tensor, const core::Box& box) {
  if (type == MessageType::Data) return TransportStatus::BadPeer;
  const bool bulk = device::is_bulk(type);
  if (body_bytes > UINT32_MAX) return TransportStatus::PayloadTooLarge;
  // Provisioning happens before the device knows the plan's max payload.
  const uint32_t max = type == MessageType::Provision ? device::kDefaultMaxPayload : max_payload_;
  if (!bulk && body_bytes > std::max(max, device::kDefaultMaxPayload)) {
    return TransportStatus::PayloadTooLarge;
  }
  FrameHeader h;
  h.type = type;
  h.destination = static_cast<uint16_t>(index);
  h.inference_id = inference_id;
  if (device::carries_box(type)) {
    h.tensor = tensor;
    h.box = box;
  }
  h.message_bytes = static_cast<uint32_t>(body_bytes);
  size_t offset = 0;
  do {
    const size_t chunk = bulk ? std::min<size_t>(max, body_bytes - offset) : body_bytes;
    h.chunk_offset = static_cast<uint32_t>(offset);
    h.payload_bytes = static_cast<uint32_t>(chunk);
    const TransportStatus s = send_frame(h, body + offset);
    if (s != TransportStatus::Ok) return s;
    offset += chunk;
  } while (offset < body_bytes);
  return TransportStatus::Ok;
}

TransportStatus SocketTransport::send_error(int index, device::ErrorCode code,
                                            const std::string& text) {
  std::vector<uint8_t> body(device::kDefaultMaxPayload);
  const size_t n = device::encode_error_payload(code, text.c_str(), body.data(), body.size());
  return send_message(index, MessageType::Error, inbound_.inference(), body.data(), n);
}

TransportStatus SocketTransport::send_chunk(const device::ChunkHeader& c, const int8_t* payload) {
  if (c.source != self() || c.destination < 0 || c.destination > UINT16_MAX) {
    return TransportStatus::BadPeer;
  }
  if (c.payload_bytes <= 0 || static_cast<uint32_t>(c.payload_bytes) > max_payload_) {
    return TransportStatus::PayloadTooLarge;
  }
  return send_frame(device::data_frame_header(c, inbound_.inference()),
                    reinterpret_cast<const uint8_t*>(payload));
}

TransportStatus SocketTransport::grant_credit(int32_t source, int64_t bytes) {
  while (bytes > 0) {
    const auto grant = static_cast<uint32_t>(std::min<int64_t>(bytes, UINT32_MAX));
    uint8_t body[device::kCreditPayloadBytes];
    device::encode_credit_payload(grant, body);
    const TransportStatus s =
        send_message(source, MessageType::Credit, inbound_.inference(), body, sizeof body);
    if (s != TransportStatus::Ok) return s;
    bytes -= grant;
  }
  return TransportStatus::Ok;
}

TransportStatus SocketTransport::poll(device::LinkEvent* event, int8_t* payload,
                                      int32_t payload_capacity) {
  const Clock::time_point deadline = Clock::now() + receive_timeout_;
  const uint32_t current = inbound_.inference();
  if (inbound_.take_kept_credit(event)) return TransportStatus::Ok;
  for (;;) {
    // Items of an abandoned inference are dropped; those of the next one
    // (a faster peer already started it) wait for it.
    for (auto it = events_.begin(); it != events_.end();) {
      if (device::stale_inference(it->inference_id, current)) {
        it = events_.erase(it);
        continue;
      }
      if (it->inference_id != current) {
        ++it;
        continue;
      }
      LinkItem item = std::move(*it);
      events_.erase(it);
      *event = item.event;
      if (static_cast<int64_t>(item.payload.size()) > payload_capacity) {
        return TransportStatus::PayloadTooLarge;
      }
      if (!item.payload.empty()) std::memcpy(payload, item.payload.data(), item.payload.size());
      return TransportStatus::Ok;
    }
    if (!error_.empty()) return TransportStatus::Failed;
    if (interrupted_) return TransportStatus::Closed;
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
          return device::interrupts_run(m.type);
        });
        return TransportStatus::Ok;
      }
    }
    // After a link failure, only waits on other links go on.
    if (!error_.empty() &&
        (source_filter < 0 || error_peer_ < 0 || error_peer_ == route(source_filter))) {
      return TransportStatus::Failed;
    }
    if (source_filter >= 0) {
      const Link* l = link(route(source_filter));
      if (l == nullptr || l->closed) {
        fail(source_filter, "the connection to " + peer_name(source_filter) + " closed");
        return TransportStatus::Closed;
      }
    }
    if (!pump(deadline)) return TransportStatus::Timeout;
  }
}

const WireMessage* SocketTransport::queued_control(int source, MessageType type) const {
  for (const WireMessage& m : control_) {
    if (m.source == source && m.type == type) return &m;
  }
  return nullptr;
}

void SocketTransport::serve_until(Clock::time_point deadline) {
  // Even after a failure: the other links still carry what explains it.
  while (pump(deadline)) {
  }
}

void SocketTransport::linger(Clock::time_point deadline) {
  std::vector<pollfd> fds;
  for (Link& l : links_) {
    if (!l.fd.valid() || l.closed) continue;
    flush(static_cast<int>(&l - links_.data()), false);
    ::shutdown(l.fd.get(), SHUT_WR);
    fds.push_back(pollfd{l.fd.get(), POLLIN, 0});
  }
  std::vector<uint8_t> sink(kReadChunk);
  size_t open = fds.size();
  while (open > 0) {
    const int r = ::poll(fds.data(), fds.size(), ms_until(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    for (pollfd& p : fds) {
      if (p.fd < 0 || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::recv(p.fd, sink.data(), sink.size(), MSG_DONTWAIT);
      if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))) {
        continue;
      }
      p.fd = -1;  // end of file or reset: poll ignores it from now on
      --open;
    }
  }
}

bool SocketTransport::pump(Clock::time_point deadline) {
  std::vector<pollfd> fds;
  std::vector<int> owners;
  for (size_t i = 0; i < links_.size(); ++i) {
    const Link& l = links_[i];
    if (!l.fd.valid() || l.closed || l.broken) continue;
    const bool writing = l.out_start < l.out.size();
    fds.push_back(pollfd{l.fd.get(), static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0});
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
    if (fds[i].revents & POLLOUT) flush(owners[i], false);
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_link(owners[i]);
  }
  return true;
}

void SocketTransport::read_link(int index) {
  Link& l = links_[static_cast<size_t>(index)];
  if (l.closed) return;
  if (l.in_start > 0 && l.in_start == l.in.size()) {
    l.in.clear();
    l.in_start = 0;
  }
  const size_t old = l.in.size();
  l.in.resize(old + kReadChunk);
  const ssize_t n = ::recv(l.fd.get(), l.in.data() + old, kReadChunk, MSG_DONTWAIT);
  l.in.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    l.closed = true;
  } else if (n == 0) {
    l.closed = true;
  } else {
    decode_frames(index);
  }
  Link& after = links_[static_cast<size_t>(index)];
  if (after.closed && after.essential) {
    fail(index, "the connection to " + peer_name(index) + " closed");
  }
}

void SocketTransport::decode_frames(int index) {
  const device::DecoderConfig cfg = decoder_config();
  for (;;) {
    Link& l = links_[static_cast<size_t>(index)];
    if (l.broken || l.in_start >= l.in.size()) break;
    FrameView f;
    const uint8_t* raw = l.in.data() + l.in_start;
    const device::FrameAuth a = auth(l);
    const DecodeStatus s = device::decode_frame(raw, l.in.size() - l.in_start, cfg, &f, &a);
    if (s == DecodeStatus::Short) break;
    if (s != DecodeStatus::Ok && l.serial &&
        device::classify_malformed(header_sound(raw, l.in.size() - l.in_start, cfg)) ==
            device::Malformed::Noise) {
      // Not a frame (a banner, noise, a false magic): skip to where one may
      // begin and decode on.
      const size_t skip = garbage_length(raw, l.in.size() - l.in_start);
      l.in_start += skip;
      l.dropped_bytes += static_cast<int64_t>(skip);
      continue;
    }
    if (s != DecodeStatus::Ok) {
      // The byte stream cannot be trusted to be in step any more: fail()
      // marks the link broken, so nothing more is read from it, but it can
      // still carry the Error that reports this.
      fail(index, "bad frame from " + peer_name(index) + ": " + device::decode_status_name(s));
      return;
    }
    const size_t size = f.frame_bytes;
    accept_frame(index, f, raw);
    links_[static_cast<size_t>(index)].in_start += size;
  }
  // Keep the buffer from growing without bound.
  Link& l = links_[static_cast<size_t>(index)];
  if (l.in_start > 0 && l.in_start * 2 >= l.in.size()) {
    l.in.erase(l.in.begin(), l.in.begin() + static_cast<std::ptrdiff_t>(l.in_start));
    l.in_start = 0;
  }
}

void SocketTransport::relay_frame(int index, const FrameHeader& h, const uint8_t* raw,
                                  size_t size) {
  const int via = route(h.destination);
  Link* out = link(via);
  if (out == nullptr || out->closed) {
    fail(index, "cannot relay a frame from " + peer_name(h.source) + " to " +
                    peer_name(h.destination) + ": no link to it");
    return;
  }
  out->out.insert(out->out.end(), raw, raw + size);
  const device::FrameAuth a = auth(*out);
  // Checked under the nonce of the link it came in on; the next link's
  // peer checks it under that link's.
  if (a.key != nullptr && (h.flags & device::kFlagTagged) != 0) {
    device::retag_frame(out->out.data() + out->out.size() - size, size, a);
  }
  ++counters_.frames_relayed;
  counters_.bytes_relayed += static_cast<int64_t>(size);
  flush(via, false);
}

void SocketTransport::accept_frame(int index, const FrameView& f, const uint8_t* raw) {
  const FrameHeader& h = f.header;
  Link& l = links_[static_cast<size_t>(index)];
  if (l.challenge && h.type == MessageType::Pong && h.source == index) {
    take_greeting_answer(index, f);
    if (l.broken) return;
  }
  if (h.source != index && !l.any_source) {
    fail(index, "a frame from " + peer_name(index) + " names the wrong source");
    return;
  }
  const device::Inbound in = inbound_.accept(h, f.payload, true);
  switch (in.kind) {
    case device::InboundKind::OtherDestination:
      // Relayed frames keep their end-to-end sequence numbers and credit.
      if (relay_) {
        relay_frame(index, h, raw, f.frame_bytes);
      } else {
        fail(index, "a frame from " + peer_name(index) + " names the wrong destination");
      }
      return;
    case device::InboundKind::SequenceGap:
      fail(index, "sequence gap from " + peer_name(h.source) + ": expected " +
                      std::to_string(in.expected) + ", got " + std::to_string(h.sequence));
      return;
    case device::InboundKind::UnknownSource:
      fail(index, "a frame from " + peer_name(index) + " names an unknown participant " +
                      std::to_string(h.source));
      return;
    case device::InboundKind::Stale:
    case device::InboundKind::CreditKept:
      if (h.type == MessageType::Data) counters_.bulk_bytes_received += h.payload_bytes;
      return;
    case device::InboundKind::Data:
    case device::InboundKind::DataLater: {
      // Queued, a later inference's too (a faster peer already started it).
      counters_.bulk_bytes_received += h.payload_bytes;
      LinkItem item;
      item.inference_id = h.inference_id;
      item.event = device::data_event(h);
      const auto* p = reinterpret_cast<const int8_t*>(f.payload);
      item.payload.assign(p, p + h.payload_bytes);
      events_.push_back(std::move(item));
      return;
    }
    case device::InboundKind::Credit: {
      LinkItem item;
      item.inference_id = h.inference_id;
      item.event = in.event;
      events_.push_back(std::move(item));
      return;
    }
    case device::InboundKind::Control:
      break;
  }
  if (device::is_bulk(h.type)) {
    counters_.bulk_bytes_received += h.payload_bytes;
    const device::ChunkStep step = l.chunks.accept(h);
    if (step == device::ChunkStep::OutOfOrder || l.chunks.abandoned()) {
      fail(index, "out-of-order chunk from " + peer_name(h.source));
      return;
    }
    if (h.chunk_offset == 0) {
      l.partial = WireMessage{h.type, h.source, h.plan_hash, h.inference_id, h.tensor, h.box, {}};
      l.partial.body.reserve(h.message_bytes);
    }
    l.partial.body.insert(l.partial.body.end(), f.payload, f.payload + h.payload_bytes);
    if (step == device::ChunkStep::Partial) return;
    control_.push_back(std::move(l.partial));
    l.partial = WireMessage{};
    return;
  }
  WireMessage m{h.type, h.source, h.plan_hash, h.inference_id, 0, core::Box{}, {}};
  m.body.assign(f.payload, f.payload + h.payload_bytes);
  if (device::interrupts_run(h.type)) interrupted_ = true;
  if (h.type == MessageType::Error) l.error_received = true;
  control_.push_back(std::move(m));
}

}  // namespace mcusplit::host
