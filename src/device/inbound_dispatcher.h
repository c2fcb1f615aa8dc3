// What a participant does with each frame it receives, whatever carried its
// bytes (a socket, a UART): the one home of the receive-side rules of
// docs/protocol.md. A transport decodes a frame (decode_frame, or the serial
// frame reader), hands its header to accept(), and acts on the verdict: a
// Data chunk or Credit grant of the running inference becomes the runtime's
// LinkEvent, a frame of an abandoned inference is dropped, credit for a later
// inference is kept here until it begins, everything else is a control
// message; a frame misaddressed, from an unknown source or out of sequence
// is refused. Multi-frame messages (Provision, Start, Result with a body)
// are checked chunk by chunk with ChunkAssembly. Malformed frames are told
// from line noise by malformed().
//
// What each transport keeps: its byte I/O, where payloads are stored (the
// UART writes straight into the caller's buffer or the provisioning region;
// the socket queues copies), relaying, and how it words a failure.
// Freestanding: no heap; 16 bytes per participant (kMaxParticipants) and a
// few more.
#pragma once

#include <cstdint>

#include "device/frame_codec.h"
#include "device/inbound_frames.h"
#include "device/link_reliability.h"
#include "device/protocol.h"
#include "device/transport.h"

namespace mcusplit::device {

enum class InboundKind : uint8_t {
  // Taken.
  Data,        // a Data chunk of the current inference: `event` describes it
  Credit,      // a grant of the current inference while running: `event`
  CreditKept,  // a grant for a later inference (or while not running): kept
  Stale,       // Data or Credit of an abandoned (earlier) inference: dropped
  DataLater,   // a Data chunk of a later inference, or of the current one while not running
  Control,     // any other type: a control message or a chunk of a bulk message
  // Refused: the link is misaddressed or out of step.
  OtherDestination,  // for another participant (a relay forwards it; a device refuses it)
  UnknownSource,     // a source beyond the participants
  SequenceGap,       // a frame skipped or repeated on its stream: `expected` was due
};

// True for the verdicts that refuse the frame.
constexpr bool refused(InboundKind k) {
  return k == InboundKind::OtherDestination || k == InboundKind::UnknownSource ||
         k == InboundKind::SequenceGap;
}

struct Inbound {
  InboundKind kind = InboundKind::Control;
  LinkEvent event;        // Data, Credit
  uint32_t expected = 0;  // SequenceGap: the sequence number that was due
};

// A control message during a run: what the run does with it.
enum class RunControl : uint8_t {
  AnswerPing,  // liveness: answer with a Pong echoing its payload, the run goes on
  Interrupt,   // Stop or Error from the coordinator: the run ends (polls return Closed)
  Unexpected,  // anything else: refused (Error UnexpectedMessage)
};

constexpr bool interrupts_run(MessageType t) {
  return t == MessageType::Stop || t == MessageType::Error;
}

constexpr RunControl control_during_run(MessageType t) {
  if (t == MessageType::Ping) return RunControl::AnswerPing;
  if (interrupts_run(t)) return RunControl::Interrupt;
  return RunControl::Unexpected;
}

// A frame that did not decode.
enum class Malformed : uint8_t {
  Noise,    // no sound header (magic, version or header CRC failed): not a frame at all
  Refused,  // a sound header (a real frame from its source) that is refused: report it
};

constexpr Malformed classify_malformed(bool header_sound) {
  return header_sound ? Malformed::Refused : Malformed::Noise;
}

// Where a chunk of a multi-frame message stands.
enum class ChunkStep : uint8_t {
  Partial,     // taken in order; more chunks to come
  Complete,    // taken in order; the message is whole
  OutOfOrder,  // not where the message in progress stands, or not of it: nothing in progress now
};

// The chunks of one multi-frame message from one source, taken in order. A
// chunk at offset 0 always begins a message (abandoned() says whether it cut
// one short); every other chunk must continue the message in progress: same
// type, source, tensor and box, at the offset reached so far.
class ChunkAssembly {
 public:
  // Before its payload arrives: would chunk `h` be taken?
  bool in_order(const FrameHeader& h) const {
    return h.chunk_offset == 0 || (in_progress() && continues(h));
  }
  // Takes chunk `h` (decoded, so it lies within its message_bytes).
  ChunkStep accept(const FrameHeader& h);
  // The last accept began a message while another was still in progress.
  bool abandoned() const { return abandoned_; }
  // A message with chunks taken and more to come (a non-empty message's
  // chunks carry at least one byte each, so received() > 0).
  bool in_progress() const { return received_ > 0; }
  // Bytes of the message in progress received in order.
  uint32_t received() const { return received_; }
  void reset() { *this = ChunkAssembly{}; }

 private:
  bool continues(const FrameHeader& h) const;

  MessageType type_ = MessageType::Provision;
  bool abandoned_ = false;
  uint16_t source_ = 0;
  uint32_t tensor_ = 0;
  core::Box box_;
  uint32_t received_ = 0;
};

class InboundDispatcher {
 public:
  // This participant. Until it is set, frames for any destination are taken.
  void set_self(uint16_t self) { self_ = self; }
  bool self_known() const { return self_ != kUnknownSelf; }
  // 0 until known.
  uint16_t self() const { return self_known() ? self_ : 0; }
  // Sources from 0 to count - 1 are known (at most kMaxParticipants).
  void set_participants(int32_t count) {
    participants_ = static_cast<int16_t>(count < kMaxParticipants ? count : kMaxParticipants);
  }
  int32_t participants() const { return participants_; }
  // The inference the runtime's polls belong to: frames of earlier ones are
  // stale from now on, credit kept for this one is handed out.
  void set_inference(uint32_t id) { inference_ = id; }
  uint32_t inference() const { return inference_; }
  // The stream from `source` starts (again) at `next`: a link (re)opened.
  void restart_stream(uint16_t source, uint32_t next) { sequences_.set(source, next); }

  // True if a Data frame with header `h` (not yet accepted: its payload is
  // still to come) is one the running inference takes now; false if its
  // payload is to be dropped or kept for later.
  bool data_for_run(const FrameHeader& h, bool running) const {
    return running && h.type == MessageType::Data && for_self(h) && h.inference_id == inference_;
  }

  // The verdict on a whole, well-formed frame with header `h` and payload
  // `payload` (read for Credit only; may be null for other types).
  // `running`: the runtime is waiting for link events now, so a grant of
  // the current inference is handed out rather than kept. A frame that is
  // not refused is counted and uses up its sequence number.
  Inbound accept(const FrameHeader& h, const uint8_t* payload, bool running);

  // On a lossy link, before accept(): is the sequenced frame `h` the one
  // its stream expects, one taken before, or one ahead of a lost one? The
  // Ack to send either way names held_through(h.source).
  Arrival arrival(const FrameHeader& h) const {
    return classify_arrival(h.sequence, sequences_.next(h.source));
  }
  uint32_t held_through(uint16_t source) const { return sequences_.next(source) - 1; }

  // A frame whose header was sound but whose payload CRC failed: the stream
  // stays in step (its sequence number is used up); the frame is lost.
  void payload_lost(const FrameHeader& h) { sequences_.set(h.source, h.sequence + 1); }

  // A Credit event for credit kept for the current inference, if any.
  bool take_kept_credit(LinkEvent* event);
  // Forgets kept credit (a run abandoned with everything it left queued).
  void drop_kept_credit();

  // Frames accepted (not refused) since the last reset_count().
  uint64_t received() const { return received_; }
  void reset_count() { received_ = 0; }

 private:
  bool for_self(const FrameHeader& h) const { return !self_known() || h.destination == self_; }

  // Laid out without padding: the firmware's RAM is counted to the byte.
  static constexpr uint16_t kUnknownSelf = 0xFFFF;  // frame fields are 16 bits
  static_assert(kMaxParticipants < kUnknownSelf);
  uint64_t received_ = 0;
  // Credit granted for an inference not yet running here, per peer.
  int64_t kept_credit_[kMaxParticipants] = {};
  uint32_t kept_credit_id_[kMaxParticipants] = {};
  StreamSequences sequences_;  // by source
  uint32_t inference_ = kNoInference;
  uint16_t self_ = kUnknownSelf;
  int16_t participants_ = kMaxParticipants;
};

}  // namespace mcusplit::device
