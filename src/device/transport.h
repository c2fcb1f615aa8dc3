// The link between the device runtime and the other participants: one
// message per Send op, one header plus a dense NHWC payload of the box.
// Implementations: an in-memory network for in-process runs
// (host/in_process_cluster.h); later a socket and a serial transport, which
// frame the message on the wire (device/frame_*) and split a payload larger
// than the plan's max_payload_bytes into several frames. That chunking
// belongs to the transport, not the runtime: the runtime always hands over
// and receives whole boxes. Freestanding: status codes, no exceptions.
#pragma once

#include <cstdint>

#include "core/box.h"

namespace mcusplit::device {

enum class TransportStatus : int32_t {
  Ok = 0,
  Timeout,          // receive: nothing arrived in time
  Closed,           // the link or the whole run was shut down
  PayloadTooLarge,  // receive: the payload does not fit the caller's buffer
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

struct MessageHeader {
  int32_t source = -1;       // sending participant
  int32_t destination = -1;  // receiving participant
  int32_t tensor = -1;
  core::Box box;              // tensor coordinates of the payload
  int64_t payload_bytes = 0;  // box.volume(): dense NHWC over box
};

// Calls come from one thread (the runtime's). Messages from one source to one
// destination must be delivered in the order they were sent; messages from
// different sources may interleave, so an implementation over one shared
// medium (a serial bus) keeps what arrives from other sources until it is
// asked for.
class Transport {
 public:
  // Hands one message to the link. May return before the peer has it (queued
  // or DMA); `payload` (header.payload_bytes bytes) may be reused on return.
  virtual TransportStatus send(const MessageHeader& header, const int8_t* payload) = 0;

  // Waits for the next message from `source` to this participant and writes
  // its header and payload. PayloadTooLarge (the message is consumed) if the
  // payload exceeds `payload_capacity`; Timeout if the implementation's
  // deadline passes first.
  virtual TransportStatus receive(int32_t source, MessageHeader* header, int8_t* payload,
                                  int64_t payload_capacity) = 0;

 protected:
  // Not deleted through this interface: no virtual destructor, so an MCU
  // build needs no operator delete.
  ~Transport() = default;
};

}  // namespace mcusplit::device
