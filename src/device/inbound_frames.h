// What every transport does with a frame once decoded, whatever carried its
// bytes (a socket, a UART): the per-stream sequence check, the stale
// inference filter, and turning Data and Credit frames into the runtime's
// link events. The byte I/O and the queueing stay with each transport.
// Freestanding.
#pragma once

#include <cstdint>

#include "device/device_runtime.h"
#include "device/frame_codec.h"
#include "device/transport.h"

namespace mcusplit::device {

// Inference ids grow by one per inference (mod 2^32): frames of an earlier
// one belong to an abandoned run and are dropped; those of a later one (a
// faster peer already started it) wait for it.
constexpr bool stale_inference(uint32_t id, uint32_t current) {
  return static_cast<int32_t>(id - current) < 0;
}

enum class SequenceVerdict : uint8_t {
  Ok,             // the next frame of its stream
  Gap,            // a frame skipped or repeated
  UnknownSource,  // a source beyond kMaxParticipants
};

// Sequence numbers of one participant's streams, one per peer: what it
// sends to each (destination), or what it receives from each (source).
class StreamSequences {
 public:
  static constexpr bool known(uint32_t peer) {
    return peer < static_cast<uint32_t>(kMaxParticipants);
  }
  // The number due next with `peer` (0 for an unknown peer: callers refuse
  // those first).
  uint32_t next(uint32_t peer) const { return known(peer) ? next_[peer] : 0; }
  void set(uint32_t peer, uint32_t next) {
    if (known(peer)) next_[peer] = next;
  }
  void advance(uint32_t peer) {
    if (known(peer)) ++next_[peer];
  }
  // Receiving: checks `sequence` from `peer` and moves past it (past it on
  // a gap too, so a link that carries on stays in step); `expected` says
  // what was due.
  SequenceVerdict accept(uint32_t peer, uint32_t sequence, uint32_t* expected) {
    if (!known(peer)) return SequenceVerdict::UnknownSource;
    *expected = next_[peer];
    next_[peer] = sequence + 1;
    return sequence == *expected ? SequenceVerdict::Ok : SequenceVerdict::Gap;
  }

 private:
  uint32_t next_[kMaxParticipants] = {};
};

// The runtime's view of a Data frame: which box of which tensor, which bytes.
inline ChunkHeader chunk_header_of(const FrameHeader& h) {
  ChunkHeader c;
  c.source = h.source;
  c.destination = h.destination;
  c.tensor = static_cast<int32_t>(h.tensor);
  c.box = h.box;
  c.message_bytes = h.message_bytes;
  c.chunk_offset = h.chunk_offset;
  c.payload_bytes = static_cast<int32_t>(h.payload_bytes);
  return c;
}

inline LinkEvent data_event(const FrameHeader& h) {
  LinkEvent e;
  e.kind = LinkEventKind::Data;
  e.chunk = chunk_header_of(h);
  return e;
}

// A Credit frame from `h.source` granting `bytes`.
inline LinkEvent credit_event(const FrameHeader& h, uint32_t bytes) {
  LinkEvent e;
  e.kind = LinkEventKind::Credit;
  e.peer = h.source;
  e.credit_bytes = bytes;
  return e;
}

}  // namespace mcusplit::device
