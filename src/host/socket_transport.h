// A device::Transport over TCP sockets (docs/protocol.md): one connection per
// pair of participants (switched topology), every message framed with the
// wire protocol (header and payload CRCs, plan hash, per-stream sequence
// numbers, chunks of at most the plan's max payload). One thread drives it:
// whenever it waits (a receive, or a send the peer is slow to drain) it reads
// every link and queues what arrives, so two participants sending to each
// other at once never deadlock, and control messages (Stop, Error) arriving
// during a run interrupt the runtime's receives instead of waiting them out.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/box.h"
#include "device/frame_codec.h"
#include "device/protocol.h"
#include "device/transport.h"
#include "host/socket_io.h"

namespace mcusplit::host {

// One whole message, reassembled from its chunks.
struct WireMessage {
  device::MessageType type = device::MessageType::Ping;
  int source = -1;
  uint64_t plan_hash = 0;
  uint32_t inference_id = device::kNoInference;
  uint32_t tensor = 0;
  core::Box box;
  std::vector<uint8_t> body;
};

// Link figures since the last reset_counters().
struct LinkCounters {
  int64_t frames_sent = 0;
  int64_t frames_received = 0;
  int64_t bulk_bytes_sent = 0;  // payload bytes of bulk frames
  int64_t bulk_bytes_received = 0;
};

class SocketTransport final : public device::Transport {
 public:
  explicit SocketTransport(std::chrono::milliseconds receive_timeout);
  SocketTransport(const SocketTransport&) = delete;
  SocketTransport& operator=(const SocketTransport&) = delete;

  void set_self(int participant) { self_ = participant; }
  int self() const { return self_; }
  // Stamped on every frame sent; checked on every frame received (0: any).
  void set_plan_hash(uint64_t send_hash, uint64_t expected_hash);
  void set_max_payload(uint32_t max_payload);
  void set_inference(uint32_t id) { inference_ = id; }
  // A peer whose connection must not close: its EOF is a link failure.
  void set_essential(int peer);
  void set_peer_name(int peer, std::string name);
  std::string peer_name(int peer) const;

  // The connecting side of a link: attaches `fd`, sends Ping, waits for the
  // Pong. Throws mcusplit::Error (exit code 1) on failure or timeout.
  void connect_peer(int peer, UniqueFd fd, Clock::time_point deadline);
  // The accepting side: reads the Ping, learns the peer from its source (and
  // this participant from its destination if not yet known), answers Pong.
  // Returns the peer. Throws mcusplit::Error (exit code 1).
  int accept_peer(UniqueFd fd, Clock::time_point deadline);

  device::TransportStatus send(const device::MessageHeader& header, const int8_t* payload) override;
  device::TransportStatus receive(int32_t source, device::MessageHeader* header, int8_t* payload,
                                  int64_t payload_capacity) override;

  // Any message type; bulk bodies are chunked, control bodies must fit one
  // frame.
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
  // True when a Stop or Error is queued: receives return Closed meanwhile.
  bool interrupted() const { return interrupted_; }
  void clear_interrupt() { interrupted_ = false; }

  // The first link failure (bad frame, sequence gap, I/O, lost essential
  // peer), "" if none; and the peer it concerns (-1 if none).
  const std::string& error() const { return error_; }
  int error_peer() const { return error_peer_; }
  const LinkCounters& counters() const { return counters_; }
  void reset_counters() { counters_ = LinkCounters{}; }

 private:
  struct Peer {
    UniqueFd fd;
    std::string name;
    std::vector<uint8_t> in;  // bytes read, not yet decoded, from in_start on
    size_t in_start = 0;
    uint32_t send_sequence = 0;
    uint32_t receive_sequence = 0;
    bool closed = false;
    bool essential = false;
    bool assembling = false;
    WireMessage partial;  // bulk message being reassembled
    std::deque<WireMessage> data;
  };

  Peer* peer(int index);
  Peer& ensure_peer(int index);
  bool fail(int peer, const std::string& what);
  device::TransportStatus write_all(int peer, const uint8_t* data, size_t size);
  // Reads whatever every link has, waiting up to `deadline` for something to
  // happen (or for `write_fd` to become writable). False on timeout.
  bool pump(Clock::time_point deadline, int write_fd = -1);
  void read_peer(int index);
  void decode_frames(int index);
  void accept_frame(int index, const device::FrameView& f);
  device::DecoderConfig decoder_config() const;

  std::chrono::milliseconds receive_timeout_;
  int self_ = -1;
  uint64_t send_hash_ = 0;
  uint64_t expected_hash_ = 0;
  uint32_t max_payload_ = device::kDefaultMaxPayload;
  uint32_t inference_ = device::kNoInference;
  std::vector<Peer> peers_;
  std::deque<WireMessage> control_;
  bool interrupted_ = false;
  std::string error_;
  int error_peer_ = -1;
  LinkCounters counters_;
  std::vector<uint8_t> frame_;  // encode buffer
};

}  // namespace mcusplit::host
