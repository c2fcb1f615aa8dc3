// A device::Transport over TCP sockets (docs/protocol.md): every message
// framed with the wire protocol (header and payload CRCs, plan hash,
// per-stream sequence numbers, chunks of at most the plan's max payload).
// Switched topology: one connection per pair of participants. Star topology:
// every device has one connection, to the coordinator, whose transport
// relays frames between devices unchanged (credit and sequence numbers stay
// end to end). One thread drives it: whenever it waits (a poll, or a send the
// peer is slow to drain) it reads every link, queues what arrives and relays
// what is not for it, so two participants sending to each other at once never
// deadlock, and control messages (Stop, Error) arriving during a run
// interrupt the runtime's polls instead of waiting them out.
//
// Serial links (set_serial): a link to an emulated microcontroller's UART
// carries whatever the firmware prints besides frames (a boot banner) and
// possibly line noise. On such a link, bytes that cannot begin a sound frame
// header (wrong magic, header CRC mismatch, another version) are dropped and
// counted (dropped_bytes) and decoding resynchronises on the next "MSPF" whose
// header CRC matches, instead of failing the link; a frame whose header is
// sound but which is refused (payload CRC, another plan, a bad field) still
// fails it, as on TCP.
//
// Authentication (set_key; docs/protocol.md, "Authentication"): with the
// cluster key every frame on a TCP link is tagged and must be, under the
// link's nonce, agreed at its greeting: the connecting side's Ping carries a
// random challenge, the Pong echoes it followed by the accepting side's own,
// and the nonce is the two XORed, so neither side alone picks it and frames
// of an earlier connection fail their tag. The greeting itself is tagged
// under nonce 0. A refused frame fails the link (the byte stream can no
// longer be trusted to be in step) and is never acted on; the relay checks
// each frame's tag on the link it came in on and re-tags it for the link it
// goes out on. Serial links (emulated devices on UARTs) are tagged alike.
//
// What each frame is (a Data chunk or Credit grant, one of an abandoned
// inference, credit kept for a later one, a control message, a frame
// refused) is decided by device::InboundDispatcher, the rules the firmware's
// UART transport follows too; this file does the sockets, the queues and
// the relaying.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/box.h"
#include "device/frame_codec.h"
#include "device/inbound_dispatcher.h"
#include "device/protocol.h"
#include "device/transport.h"
#include "host/cluster_key.h"
#include "host/socket_io.h"

namespace mcusplit::host {

// One whole control or bulk (non-Data) message, reassembled from its chunks.
struct WireMessage {
  device::MessageType type = device::MessageType::Ping;
  int source = -1;
  uint64_t plan_hash = 0;
  uint32_t inference_id = device::kNoInference;
  uint32_t tensor = 0;
  core::Box box;
  std::vector<uint8_t> body;
};

// Link figures since the last reset_counters(). Relayed frames count only in
// the relay figures.
struct LinkCounters {
  int64_t frames_sent = 0;
  int64_t frames_received = 0;
  int64_t bulk_bytes_sent = 0;  // payload bytes of bulk frames
  int64_t bulk_bytes_received = 0;
  int64_t frames_relayed = 0;
  int64_t bytes_relayed = 0;  // whole frames
};

class SocketTransport final : public device::Transport {
 public:
  explicit SocketTransport(std::chrono::milliseconds receive_timeout);
  SocketTransport(const SocketTransport&) = delete;
  SocketTransport& operator=(const SocketTransport&) = delete;

  void set_self(int participant) { inbound_.set_self(static_cast<uint16_t>(participant)); }
  // -1 until known.
  int self() const { return inbound_.self_known() ? inbound_.self() : -1; }
  // Stamped on every frame sent; checked on every frame received (0: any).
  void set_plan_hash(uint64_t send_hash, uint64_t expected_hash);
  void set_max_payload(uint32_t max_payload);
  // Tags every frame and refuses untagged or wrongly tagged ones (see the
  // file comment). Set before any link is attached.
  void set_key(const ClusterKey& key) { key_ = key; }
  void set_inference(uint32_t id) { inbound_.set_inference(id); }
  // A peer whose connection must not close: its EOF is a link failure.
  void set_essential(int peer);
  void set_peer_name(int peer, std::string name);
  std::string peer_name(int peer) const;
  // Star topology on a device: frames for `participant` go over the link to
  // `via` (the coordinator), and that link may carry frames from anyone.
  void set_route(int participant, int via);
  // Star topology on the coordinator: frames arriving for another
  // participant are forwarded unchanged over the link to it.
  void set_relay(bool relay) { relay_ = relay; }
  // The link to `peer` is a serial line (see the file comment): garbage
  // between frames is skipped, not fatal. Set before the link is attached.
  void set_serial(int peer, bool serial);
  // Bytes skipped as garbage on the link to `peer` since it was attached.
  int64_t dropped_bytes(int peer) const;

  // The connecting side of a link: attaches `fd`, sends Ping, waits for the
  // Pong. Throws mcusplit::Error (exit code 1) on failure or timeout.
  void connect_peer(int peer, UniqueFd fd, Clock::time_point deadline);
  // The Ping that greets `peer` on a link attached without one: with a key
  // it carries the challenge whose answer sets the link's nonce.
  device::TransportStatus send_greeting(int peer);
  // Attaches `fd` as the link to `peer` without a greeting (sequence numbers
  // from 0 both ways): for a peer that waits for the caller's first frame
  // and whose answer the caller handles itself (a preprovisioned device's
  // Pong or Error).
  void attach_peer(int peer, UniqueFd fd);
  // The accepting side: reads the Ping, learns the peer from its source (and
  // this participant from its destination if not yet known), answers Pong.
  // Returns the peer. Throws mcusplit::Error (exit code 1); a greeting
  // refused for its tag is answered with an Error saying why first.
  int accept_peer(UniqueFd fd, Clock::time_point deadline);

  int32_t max_payload() const override { return static_cast<int32_t>(max_payload_); }
  device::TransportStatus send_chunk(const device::ChunkHeader& header,
                                     const int8_t* payload) override;
  device::TransportStatus grant_credit(int32_t source, int64_t bytes) override;
  device::TransportStatus poll(device::LinkEvent* event, int8_t* payload,
                               int32_t payload_capacity) override;

  // Any message type but Data; bulk bodies are chunked, control bodies must
  // fit one frame.
  device::TransportStatus send_message(int peer, device::MessageType type, uint32_t inference_id,
                                       const uint8_t* body, size_t body_bytes, uint32_t tensor = 0,
                                       const core::Box& box = core::Box{});
  device::TransportStatus send_error(int peer, device::ErrorCode code, const std::string& text);
  // The next non-Data message from any peer (oldest first); `type_filter`
  // and `source_filter` (-1: any) pick a specific one and leave the rest
  // queued, except that without a type filter an Error from any peer is
  // returned too. Timeout; Closed if `source_filter`'s link closed; Failed
  // after a link failure (error()).
  device::TransportStatus wait_control(WireMessage* out, Clock::time_point deadline,
                                       int source_filter = -1, int type_filter = -1);
  // The oldest queued message of `type` from `source`, left queued; null if
  // none.
  const WireMessage* queued_control(int source, device::MessageType type) const;
  // Keeps reading and relaying until `deadline` (or no link is open), even
  // after a link failure; what arrives is queued. For a relay with nothing of
  // its own to do, and for collecting what explains a failure.
  void serve_until(Clock::time_point deadline);
  // The end of a failed participant: says it sends nothing more (shutdown
  // for writing) and reads and drops whatever its peers still send until
  // they close or `deadline`. Closing a socket that holds unread data
  // resets the connection, and a reset can cost the peer the Error frame
  // sent just before it.
  void linger(Clock::time_point deadline);
  // True when a Stop or Error is queued: polls return Closed meanwhile.
  bool interrupted() const { return interrupted_; }
  void clear_interrupt() { interrupted_ = false; }
  // Drops queued Data chunks and credit (an abandoned inference).
  void drop_link_events() {
    events_.clear();
    inbound_.drop_kept_credit();
  }

  // The first link failure (bad frame, sequence gap, I/O, lost essential
  // peer), "" if none; and the peer it concerns (-1 if none).
  const std::string& error() const { return error_; }
  int error_peer() const { return error_peer_; }
  // True if the direct link to `peer` was opened and has since closed.
  bool link_closed(int peer) const {
    return peer >= 0 && static_cast<size_t>(peer) < links_.size() &&
           links_[static_cast<size_t>(peer)].fd.valid() && links_[static_cast<size_t>(peer)].closed;
  }
  // Closed without an Error frame first: the peer died rather than gave up.
  bool link_lost(int peer) const {
    return link_closed(peer) && !links_[static_cast<size_t>(peer)].error_received;
  }
  LinkCounters counters() const {
    LinkCounters c = counters_;
    c.frames_received = static_cast<int64_t>(inbound_.received());
    return c;
  }
  void reset_counters() {
    counters_ = LinkCounters{};
    inbound_.reset_count();
  }

 private:
  struct Link {
    UniqueFd fd;
    std::string name;
    std::vector<uint8_t> in;  // bytes read, not yet decoded, from in_start on
    size_t in_start = 0;
    std::vector<uint8_t> out;  // whole frames not yet written, from out_start on
    size_t out_start = 0;
    bool closed = false;
    bool broken = false;  // failed (bad frame, sequence gap, ...): read no further
    bool essential = false;
    bool any_source = false;            // a device's link to the relaying coordinator
    bool error_received = false;        // an Error frame came over it
    bool serial = false;                // garbage between frames is skipped (set_serial)
    int64_t dropped_bytes = 0;          // garbage skipped on a serial link
    uint64_t nonce = 0;                 // tags' nonce, agreed at the greeting
    std::optional<uint64_t> challenge;  // sent in our Ping, until its Pong
    device::ChunkAssembly chunks;       // of the bulk message being reassembled
    WireMessage partial;
  };
  // A Data chunk or a credit grant for this participant, in arrival order.
  struct LinkItem {
    device::LinkEvent event;
    uint32_t inference_id = device::kNoInference;
    std::vector<int8_t> payload;
  };

  Link* link(int index);
  Link& ensure_link(int index);
  // Replaces the link to `index` with a fresh one on `fd`, keeping its
  // settings (name, essential, any source, serial).
  Link& attach(int index, UniqueFd fd);
  int route(int participant) const;
  bool fail(int peer, const std::string& what);
  // Encodes one frame and queues it on the link to its destination's route.
  device::TransportStatus send_frame(device::FrameHeader h, const uint8_t* payload);
  // Writes what a link has queued; waits (pumping every link) until it is
  // all written, unless `wait` is false.
  device::TransportStatus flush(int index, bool wait);
  // Reads whatever every link has and writes what they have queued, waiting
  // up to `deadline` for something to happen. False on timeout.
  bool pump(Clock::time_point deadline);
  void read_link(int index);
  void decode_frames(int index);
  void accept_frame(int index, const device::FrameView& f, const uint8_t* raw);
  void relay_frame(int index, const device::FrameHeader& h, const uint8_t* raw, size_t size);
  device::DecoderConfig decoder_config() const;
  // The link's frame authentication; no key on a serial link or without one.
  device::FrameAuth auth(const Link& l) const;
  // A Pong answering our greeting's challenge: sets the link's nonce.
  void take_greeting_answer(int index, const device::FrameView& f);
  // A greeting refused for its tag: answers with an Error (in this side's
  // terms), then throws.
  [[noreturn]] void refuse_greeting(UniqueFd fd, const device::FrameHeader& h,
                                    device::DecodeStatus why);

  std::chrono::milliseconds receive_timeout_;
  device::InboundDispatcher inbound_;
  uint64_t send_hash_ = 0;
  uint64_t expected_hash_ = 0;
  uint32_t max_payload_ = device::kDefaultMaxPayload;
  bool relay_ = false;
  std::vector<Link> links_;  // by the participant at the other end
  std::vector<int> route_;   // by participant: the link its frames take (-1: its own)
  device::StreamSequences send_sequences_;  // by destination participant
  std::deque<LinkItem> events_;
  std::deque<WireMessage> control_;
  bool interrupted_ = false;
  std::string error_;
  int error_peer_ = -1;
  LinkCounters counters_;
  std::vector<uint8_t> frame_;  // encode buffer
  std::optional<ClusterKey> key_;
};

}  // namespace mcusplit::host
