// The link a DeviceSession talks over: the runtime's Transport (Data chunks
// and Credit of the running inference) plus the control plane a device
// needs between and around runs (docs/protocol.md, "Message types"): the
// coordinator's commands in, Pong, Result, Stats and Error out, and what
// interrupted a run. Implemented by the UART transport (firmware), by the
// worker's socket link and by the in-memory network, so one session serves
// all three. Freestanding: status codes, no heap.
#pragma once

#include <cstdint>

#include "device/frame_codec.h"
#include "device/protocol.h"
#include "device/transport.h"

namespace mcusplit::device {

// A wait_control timeout that never expires.
inline constexpr uint32_t kWaitForever = 0xFFFFFFFFu;

// A control message (anything but Data and Credit) from the link.
struct ControlMessage {
  FrameHeader header;
  // The body, owned by the link: valid until its next call.
  const uint8_t* payload = nullptr;
  uint32_t payload_bytes = 0;
};

// What ended the run's polls with Closed: a Stop (its inference id) or an
// Error from the coordinator.
struct Interruption {
  bool pending = false;
  MessageType type = MessageType::Stop;
  uint32_t inference_id = kNoInference;
};

// Frames of every type since begin_inference (Acks and retransmissions
// not counted), and on a lossy link what it took to carry them.
struct LinkFrameCounts {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t retransmissions = 0;      // frames sent again (no Ack in time)
  uint64_t duplicates_dropped = 0;   // frames that arrived again (their Ack was lost)
  uint64_t link_frames_dropped = 0;  // link frames not for this device (unknown MAC, ...)
  uint64_t ack_round_trip_p10_us = 0;     // of its frames' send-to-Ack times, since boot:
  uint64_t ack_round_trip_median_us = 0;  // 10th percentile and median
};

class SessionLink : public Transport {
 public:
  // The participant this link speaks for.
  virtual uint16_t self() const = 0;

  // The next control message, waiting up to `timeout_ms` (kWaitForever: no
  // limit). Timeout; Closed or Failed when the link is gone (error()).
  virtual TransportStatus wait_control(ControlMessage* out, uint32_t timeout_ms) = 0;

  // One single-frame control message (payload at most the protocol's default
  // max payload) to `destination`; Result carries `tensor` with an empty box.
  virtual TransportStatus send_control(MessageType type, uint16_t destination,
                                       uint32_t inference_id, const uint8_t* payload,
                                       uint32_t payload_bytes, uint32_t tensor = 0) = 0;

  // Polls from now on belong to inference `id`: frames of earlier inferences
  // are dropped, the frame counts restart and any interruption is cleared.
  virtual void begin_inference(uint32_t id) = 0;
  // Why the last poll returned Closed, if a command interrupted the run.
  virtual Interruption interruption() const = 0;
  // Forgets the interruption and whatever the abandoned run left queued.
  virtual void end_interruption() = 0;

  virtual LinkFrameCounts frame_counts() const = 0;
  // The first link failure, "" if none (static or link-owned text).
  virtual const char* error() const = 0;

 protected:
  ~SessionLink() = default;
};

}  // namespace mcusplit::device
