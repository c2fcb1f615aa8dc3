// A streaming reader of protocol frames (docs/protocol.md) from a byte stream
// that may carry garbage, such as a serial line: it finds each frame by its
// magic, checks its header with decode_header before any payload byte is
// taken, then hands the payload out in pieces that point into the caller's
// input, so a receiver can put every byte straight where it belongs (an arena
// buffer, the provisioning region) with no frame-sized staging buffer. The
// payload CRC is computed on the way and reported with the end of the frame.
// A tagged frame's tag (docs/protocol.md, "Authentication") is read after
// its CRC and kept for the receiver, which holds the key and checks it
// (tag()); the reader has no key.
//
// Resynchronisation: a header candidate that fails decode_header is dropped
// one byte at a time: the scan restarts at the byte after its false magic, so
// garbage that happens to contain "MSPF" (and even a partial header) never
// costs the real frame that follows it. A header that is sound (its CRC
// matches) but unacceptable (wrong plan, bad field) is a real frame: its
// payload is skipped, not scanned.
//
// Freestanding: no heap, no exceptions; 72 bytes of header buffer, 20 of
// CRC and tag, plus a few counters. One reader per byte stream; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "device/frame_codec.h"
#include "device/protocol.h"

namespace mcusplit::device {

enum class ReaderEventKind : uint8_t {
  None,            // the input is used up without an event: feed more
  Header,          // a header passed decode_header: header() holds it; its payload follows
  Payload,         // the next payload bytes of the current frame: data, size, offset
  FrameOk,         // the payload CRC matched: the frame is complete (its tag, if any, unchecked)
  FrameBadCrc,     // the payload CRC did not match: discard what the Payload events gave
  HeaderRejected,  // a header candidate failed decode_header: status, header_sound
};

const char* reader_event_name(ReaderEventKind kind);

struct ReaderEvent {
  ReaderEventKind kind = ReaderEventKind::None;
  // Payload: `size` bytes at `data` (inside the caller's input to feed(), or
  // the reader's own byte for push()), bytes [offset, offset + size) of the
  // current frame's payload. Valid until the next call.
  const uint8_t* data = nullptr;
  uint32_t size = 0;
  uint32_t offset = 0;
  // HeaderRejected: why. header_sound: the header CRC matched, so header()
  // holds the rejected frame's header (its source is who to report to);
  // frame_skipped: its payload and payload CRC are being skipped.
  DecodeStatus status = DecodeStatus::Ok;
  bool header_sound = false;
  bool frame_skipped = false;
};

struct SerialReaderStats {
  uint64_t bytes_fed = 0;
  // Bytes dropped while searching for a frame: noise, and the first byte of
  // every rejected header candidate whose header was not sound (the rest of it
  // is scanned again).
  uint64_t garbage_bytes = 0;
  uint64_t frames_ok = 0;
  uint64_t frames_bad_crc = 0;     // good header, payload CRC mismatch
  uint64_t headers_rejected = 0;   // HeaderRejected events
  uint64_t frames_skipped = 0;     // rejected with a sound header: skipped whole
  uint64_t frame_bytes_ok = 0;     // bytes of FrameOk frames
  uint64_t frame_bytes_other = 0;  // bytes of FrameBadCrc and skipped frames
};

class SerialFrameReader {
 public:
  explicit SerialFrameReader(const DecoderConfig& config = DecoderConfig{}) : config_(config) {}

  // Consumes bytes from data[0, size) up to and including the first byte that
  // completes an event, which it writes to *event (kind None if all bytes were
  // used without one), and returns the number of bytes consumed. Call again
  // with the rest. A Payload event covers as many payload bytes as the input
  // holds, up to the end of the payload.
  size_t feed(const uint8_t* data, size_t size, ReaderEvent* event);

  // One byte, e.g. straight from a UART data register; a Payload event's
  // data then points at the reader's copy of the byte.
  ReaderEvent push(uint8_t byte);

  // The header of the current frame: valid from a Header event until the
  // next Header or HeaderRejected event, and after a HeaderRejected event
  // with header_sound.
  const FrameHeader& header() const { return header_; }
  // The 72 raw header bytes of the current frame, to relay it unchanged or
  // check its tag:
  // valid after a Header event until the next byte is fed, and at the
  // FrameOk or FrameBadCrc event that ends the frame.
  const uint8_t* header_bytes() const { return buffer_; }
  // At the FrameOk or FrameBadCrc event: the frame's payload CRC bytes as
  // they arrived, and its tag (kTagBytes) if its header has the Tagged flag.
  const uint8_t* crc_bytes() const { return crc_bytes_; }
  const uint8_t* tag() const { return tag_; }

  // New checks for the following frames (after provisioning: the plan hash
  // and the plan's max payload). A frame in progress keeps its header.
  void set_config(const DecoderConfig& config) { config_ = config; }
  const DecoderConfig& config() const { return config_; }

  // Forgets any partial frame (a link that was reopened). Counters stay.
  void reset();

  // True between a Header event and the end of that frame.
  bool in_frame() const {
    return state_ == State::Payload || state_ == State::Crc || state_ == State::Tag;
  }
  // Bytes fed but not yet accounted to garbage or a finished frame: a partial
  // header candidate or the frame in progress. bytes_fed always equals
  // garbage_bytes + frame_bytes_ok + frame_bytes_other + pending_bytes().
  uint64_t pending_bytes() const;

  const SerialReaderStats& stats() const { return stats_; }

 private:
  enum class State : uint8_t { Scan, Payload, Crc, Tag, Skip };

  // Scan state, one byte: extends the header candidate; true and *event set
  // when it completes an event.
  bool scan_byte(uint8_t byte, ReaderEvent* event);
  // The candidate in buffer_ failed: drop bytes from its front until what is
  // left could still begin a frame (a prefix of the magic).
  void resync();
  void finish_frame(bool ok, ReaderEvent* event);

  DecoderConfig config_;
  State state_ = State::Scan;
  uint8_t buffer_[kHeaderBytes] = {};  // header candidate, from its magic
  uint32_t buffered_ = 0;
  FrameHeader header_;
  uint32_t payload_done_ = 0;  // Payload: bytes of payload handed out
  uint32_t crc_ = 0;           // running CRC of the payload
  uint8_t crc_bytes_[kCrcBytes] = {};
  uint32_t crc_have_ = 0;
  uint8_t tag_[kTagBytes] = {};
  uint32_t tag_have_ = 0;
  uint32_t skip_left_ = 0;  // Skip: bytes of the rejected frame still to drop
  uint32_t skip_total_ = 0;
  uint8_t pushed_ = 0;  // push()'s byte
  SerialReaderStats stats_;
};

}  // namespace mcusplit::device
