// The link between the device runtime and the other participants, one frame
// at a time (docs/protocol.md, "Flow control by credit"): the runtime sends a
// box as chunks of at most max_payload() bytes, gathered straight from its
// arena buffer, only as far as the receiver has granted credit; it grants
// credit for the boxes it is about to receive and scatters every arriving
// chunk straight into the arena buffer its Receive op names. So no device
// needs a buffer for a whole message: one frame payload (max_payload() bytes,
// fixed at start-up) is all the scratch a runtime holds.
// Implementations: an in-memory network for in-process runs
// (host/in_memory_network.h), TCP sockets (host/socket_transport.h) and a
// serial link (firmware). Freestanding: status codes, no exceptions.
#pragma once

#include <cstdint>

#include "core/box.h"

namespace mcusplit::device {

enum class TransportStatus : int32_t {
  Ok = 0,
  Timeout,          // nothing arrived in time
  Closed,           // the link or the whole run was shut down (Stop, another's failure)
  PayloadTooLarge,  // a chunk larger than max_payload() or the caller's buffer
  BadPeer,          // a participant index the transport does not know
  Failed,           // any other link error (I/O, framing, checksum)
};

inline const char* transport_status_name(TransportStatus s) {
  switch (s) {
    case TransportStatus::Ok:
      return "ok";
    case TransportStatus::Timeout:
      return "timed out";
    case TransportStatus::Closed:
      return "closed";
    case TransportStatus::PayloadTooLarge:
      return "payload too large";
    case TransportStatus::BadPeer:
      return "unknown peer";
    case TransportStatus::Failed:
      return "link failure";
  }
  return "unknown status";
}

// One frame of a Data message: which box of which tensor the message carries
// and which bytes of its dense NHWC body this frame holds.
struct ChunkHeader {
  int32_t source = -1;       // sending participant
  int32_t destination = -1;  // receiving participant
  int32_t tensor = -1;
  core::Box box;              // tensor coordinates of the whole message
  int64_t message_bytes = 0;  // box.volume()
  int64_t chunk_offset = 0;   // where this frame's payload starts in the body
  int32_t payload_bytes = 0;  // this frame's payload
};

enum class LinkEventKind : uint8_t {
  Data,    // a Data chunk for this participant; its payload is in the caller's buffer
  Credit,  // `peer` granted this participant `credit_bytes` more bytes to send it
  // Nothing for the runtime, but ready_to_send() may have changed (an Ack
  // came on a lossy link).
  Progress,
};

struct LinkEvent {
  LinkEventKind kind = LinkEventKind::Data;
  ChunkHeader chunk;  // Data
  int32_t peer = -1;  // Credit: the granting participant
  int64_t credit_bytes = 0;
};

// Calls come from one thread (the runtime's). Frames from one source to one
// destination arrive in the order they were sent; frames from different
// sources may interleave.
class Transport {
 public:
  // The largest chunk payload a frame may carry (the plan's max payload).
  virtual int32_t max_payload() const = 0;

  // Hands one Data frame to the link. May return before the peer has it;
  // `payload` (header.payload_bytes bytes) may be reused on return. The
  // runtime only sends what the destination has granted.
  virtual TransportStatus send_chunk(const ChunkHeader& header, const int8_t* payload) = 0;

  // Tells `source` it may send this participant `bytes` more bytes.
  virtual TransportStatus grant_credit(int32_t source, int64_t bytes) = 0;

  // False while the link cannot take another frame without waiting (a lossy
  // link whose window is full, docs/protocol.md "Lossy links"). The runtime
  // polls until it is true before it sends a chunk or grants credit, so
  // that it never blocks in a send while a peer's data waits to be taken.
  virtual bool ready_to_send() const { return true; }

  // Waits for the next event addressed to this participant. A Data chunk's
  // payload is written to `payload` (PayloadTooLarge, the frame consumed, if
  // it exceeds `payload_capacity`). Timeout if the implementation's deadline
  // passes first; Closed if the run was stopped. The runtime keeps nothing
  // in `payload` across a call (it scatters a chunk before it polls again and
  // gathers one to send only after the credit came), so an implementation
  // may also keep other frames' payloads there (the firmware's UART transport
  // does: its control payloads share the runtime's frame buffer).
  virtual TransportStatus poll(LinkEvent* event, int8_t* payload, int32_t payload_capacity) = 0;

 protected:
  // Not deleted through this interface: no virtual destructor, so an MCU
  // build needs no operator delete.
  ~Transport() = default;
};

}  // namespace mcusplit::device
