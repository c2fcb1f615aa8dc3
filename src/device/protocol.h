// Constants and message types of the wire protocol between participants
// (docs/protocol.md), and the little-endian byte helpers every encoder and
// decoder of it uses. Freestanding: no heap, no exceptions.
//
// Multi-byte fields are written and read one byte at a time, never by casting
// a struct or loading a wider integer from a byte pointer: frames sit at any
// alignment in a receive buffer, and the layout must not depend on the
// compiler's padding or the machine's byte order (Cortex-M and x86 alike).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mcusplit::device {

// "MSPF" (mcusplit frame): the first four bytes of every frame, every version.
inline constexpr uint8_t kFrameMagic[4] = {'M', 'S', 'P', 'F'};
// Version 2 added Ack (acknowledgement on links that can lose frames);
// version 3 the Tagged flag (authenticated frames).
inline constexpr uint8_t kProtocolVersion = 3;
// Header flags: the only one. A tagged frame is followed by kTagBytes of
// HMAC-SHA256 (docs/protocol.md, "Authentication").
inline constexpr uint16_t kFlagTagged = 0x0001;

// Header layout, byte offsets (docs/protocol.md has the table).
inline constexpr size_t kOffMagic = 0;
inline constexpr size_t kOffVersion = 4;
inline constexpr size_t kOffType = 5;
inline constexpr size_t kOffFlags = 6;
inline constexpr size_t kOffSource = 8;
inline constexpr size_t kOffDestination = 10;
inline constexpr size_t kOffPlanHash = 12;
inline constexpr size_t kOffInferenceId = 20;
inline constexpr size_t kOffSequence = 24;
inline constexpr size_t kOffTensor = 28;
inline constexpr size_t kOffBox = 32;  // c0 c1 y0 y1 x0 x1, i32 each
inline constexpr size_t kOffMessageBytes = 56;
inline constexpr size_t kOffChunkOffset = 60;
inline constexpr size_t kOffPayloadBytes = 64;
inline constexpr size_t kOffHeaderCrc = 68;

inline constexpr size_t kCrcBytes = 4;
// Header including its CRC; the payload follows, then the payload CRC.
inline constexpr size_t kHeaderBytes = 72;
// Per-frame protocol overhead: header plus payload CRC.
inline constexpr size_t kFrameOverheadBytes = kHeaderBytes + kCrcBytes;

// Largest payload per frame unless a config says otherwise; equal to the
// planner's default Plan::max_payload_bytes, which the runtime passes on.
inline constexpr uint32_t kDefaultMaxPayload = 1372;
// Upper bound on any configured max payload, so frame sizes fit a 32-bit
// size_t with room to spare.
inline constexpr uint32_t kMaxPayloadLimit = 1u << 24;

// Zero is not a type, so a zeroed buffer never decodes.
enum class MessageType : uint8_t {
  Data = 1,       // a chunk of a box of a tensor (a Send op), payload dense NHWC int8
  Credit = 2,     // the sender of this frame grants the receiver N more bulk bytes
  Provision = 3,  // a chunk of the destination's plan slice
  Start = 4,      // start inference `inference_id`; optionally a box of the graph input
  Result = 5,     // inference finished on the source; optionally a box of the graph output
  Stats = 6,      // measured figures: records (u32 key, u64 value)
  Error = 7,      // u32 ErrorCode, then UTF-8 text
  Stop = 8,       // abandon the inference (or shut down if inference_id is kNoInference)
  Ping = 9,       // liveness probe; any payload
  Pong = 10,      // answer to Ping, echoing its payload
  Ack = 11,       // on lossy links only: the stream from the destination arrived up to a sequence
};

inline constexpr uint8_t kMinMessageType = 1;
inline constexpr uint8_t kMaxMessageType = 11;

inline constexpr bool is_known_message_type(uint8_t raw) {
  return raw >= kMinMessageType && raw <= kMaxMessageType;
}

// Data, Start and Result carry a box of a tensor: the message body is the
// box's dense NHWC bytes and the header's tensor and box describe it.
inline constexpr bool carries_box(MessageType t) {
  return t == MessageType::Data || t == MessageType::Start || t == MessageType::Result;
}

// Bulk messages may span several frames (chunks) and their payload bytes
// consume flow-control credit; all other types are single-frame control
// messages that need no credit.
inline constexpr bool is_bulk(MessageType t) {
  return carries_box(t) || t == MessageType::Provision;
}

inline const char* message_type_name(MessageType t) {
  switch (t) {
    case MessageType::Data:
      return "data";
    case MessageType::Credit:
      return "credit";
    case MessageType::Provision:
      return "provision";
    case MessageType::Start:
      return "start";
    case MessageType::Result:
      return "result";
    case MessageType::Stats:
      return "stats";
    case MessageType::Error:
      return "error";
    case MessageType::Stop:
      return "stop";
    case MessageType::Ping:
      return "ping";
    case MessageType::Pong:
      return "pong";
    case MessageType::Ack:
      return "ack";
  }
  return "unknown type";
}

// inference_id of frames that belong to no inference (provisioning, pings,
// a Stop that shuts the device down).
inline constexpr uint32_t kNoInference = 0xFFFFFFFFu;

// Payload sizes of the fixed-layout control messages.
inline constexpr uint32_t kCreditPayloadBytes = 4;  // u32 bytes granted
inline constexpr uint32_t kAckPayloadBytes = 4;     // u32 sequence acknowledged
inline constexpr uint32_t kErrorCodeBytes = 4;      // u32 ErrorCode before the text
inline constexpr uint32_t kStatRecordBytes = 12;    // u32 key, u64 value

// The code of an Error message. Receivers treat unknown codes as Unspecified.
enum class ErrorCode : uint32_t {
  Unspecified = 0,
  BadFrame = 1,           // a frame failed to decode; the text names the DecodeStatus
  SequenceGap = 2,        // a stream's sequence number skipped or repeated
  CreditExceeded = 3,     // more bulk bytes arrived than were granted
  NotProvisioned = 4,     // Start or Data before the plan slice was complete
  BadProvision = 5,       // the plan slice does not fit or is inconsistent
  RuntimeFailed = 6,      // the device runtime stopped with a non-Ok status (text says which)
  UnexpectedMessage = 7,  // a well-formed frame the receiver's program does not expect now
};

// Keys of Stats records. Readers skip keys they do not know, so new figures
// need no version change.
enum class StatKey : uint32_t {
  TotalMicros = 1,        // Start received to Result sent
  ComputeMicros = 2,      // in Compute ops
  WaitMicros = 3,         // blocked on receives or credit
  BytesSent = 4,          // payload bytes of bulk frames
  BytesReceived = 5,      // payload bytes of bulk frames
  FramesSent = 6,         // every type
  FramesReceived = 7,     // every type
  PeakArenaBytes = 8,     // highest arena byte touched
  Macs = 9,               // multiply-accumulates performed
  DataFramesSent = 10,    // Data frames only
  CreditFramesSent = 11,  // Credit frames only
  StoppedAtOp = 12,       // the op a device was at when a Stop abandoned its inference
  ClockHz = 13,           // ticks per second of the clock that compute clock records count
  Retransmissions = 14,   // frames sent again because no Ack came in time (lossy links)
  DuplicatesDropped = 15, // frames that arrived twice (a retransmission whose Ack was lost)
  LinkFramesDropped = 16, // link frames dropped below the protocol (unknown MAC, EtherType, short)
  AckRoundTripP10Micros = 17,     // lossy links: 10th percentile of its frames' send-to-Ack times
  AckRoundTripMedianMicros = 18,  // lossy links: their median
};

// Stats records whose key has bit 31 set are per-step records:
// key = 0x80000000 | kind << 24 | step (24 bits). Kinds 0-3 are span records
// (value begin_us << 32 | duration_us); kind 4 is a compute clock record,
// one per Compute op (value: the ticks of the ClockHz clock it took).
inline constexpr uint32_t kStepRecordFlag = 0x80000000u;
inline constexpr uint32_t kStepRecordStepMask = 0x00FFFFFFu;
inline constexpr uint32_t kComputeClockKind = 4;

constexpr uint32_t step_record_key(uint32_t kind, uint32_t step) {
  return kStepRecordFlag | (kind << 24) | (step & kStepRecordStepMask);
}
constexpr uint32_t compute_clock_key(uint32_t step) {
  return step_record_key(kComputeClockKind, step);
}

// Little-endian stores and loads, one byte at a time (see the file comment).
inline void store_le16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint16_t load_le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace mcusplit::device
