// Encoding and decoding of protocol frames (docs/protocol.md), and the
// credit accounting of flow control. Freestanding: no heap, no exceptions;
// the decoder never reads outside [data, data + size) and rejects every
// malformed frame with a status code.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/box.h"
#include "device/hmac_sha256.h"
#include "device/protocol.h"

namespace mcusplit::device {

// Keeps a frame's tag from standing for an image's (device/image_auth.h).
inline constexpr char kFrameTagLabel[] = "mcusplit frame";

// Every header field except magic and version, which the encoder writes and
// the decoder checks itself.
struct FrameHeader {
  MessageType type = MessageType::Ping;
  uint16_t flags = 0;  // kFlagTagged or 0; the encoder sets it when it tags
  uint16_t source = 0;
  uint16_t destination = 0;
  uint64_t plan_hash = 0;  // the plan file's FNV-1a hash (plan::plan_hash)
  uint32_t inference_id = kNoInference;
  uint32_t sequence = 0;       // per (source, destination) stream, +1 per frame
  uint32_t tensor = 0;         // Data, Start, Result: QTensor index; else 0
  core::Box box;               // Data, Start, Result: the box the message carries; else all 0
  uint32_t message_bytes = 0;  // the whole message body (box volume for box messages)
  uint32_t chunk_offset = 0;   // where this frame's payload starts within the body
  uint32_t payload_bytes = 0;  // this frame's payload
};

enum class DecodeStatus : uint8_t {
  Ok = 0,
  Short,          // not a whole frame yet; FrameView::frame_bytes says how many bytes are needed
  BadMagic,       // the first bytes are not "MSPF"
  BadVersion,     // a protocol version this decoder does not speak
  BadLength,      // payload over the max, or lengths inconsistent (box volume, chunk, type)
  BadCrc,         // header or payload CRC mismatch
  WrongPlanHash,  // a frame of another plan
  UnknownType,    // message type byte not in MessageType
  BadBox,         // negative or inverted box, or an empty box in a Data message
  BadField,       // reserved flags set, source == destination, or a tensor or box on a
                  // message type that has none
  MissingTag,     // no authentication tag, and the receiver has a cluster key
  UnexpectedTag,  // an authentication tag, and the receiver has no cluster key
  BadTag,         // the tag is not the frame's under the receiver's key and link nonce
};

const char* decode_status_name(DecodeStatus s);

// An HMAC-SHA256 of prefix || data under a kClusterKeyBytes key: the host
// may pass OpenSSL's; null is the device's own (prefixed_hmac_sha256).
using FrameMac = void (*)(const uint8_t* key, const uint8_t* prefix, size_t prefix_bytes,
                          const uint8_t* data, size_t size, uint8_t mac[kSha256Bytes]);

// Frame authentication (docs/protocol.md, "Authentication"): with a key,
// frames are tagged (encoder) and must be (decoder); the tag binds the
// link's nonce, so frames of an earlier connection fail it.
struct FrameAuth {
  const uint8_t* key = nullptr;  // kClusterKeyBytes; null: no key
  uint64_t nonce = 0;            // the link's, agreed at its greeting; 0 for the greeting
  FrameMac mac = nullptr;        // null: the device's own HMAC
};

// (Kept apart from the configs below, which the firmware keeps in its tight
// static RAM: it makes and checks tags with FrameTagger instead.)

struct EncoderConfig {
  uint32_t max_payload = kDefaultMaxPayload;  // clamped to kMaxPayloadLimit
};

struct DecoderConfig {
  uint64_t expected_plan_hash = 0;            // 0 accepts any (an unprovisioned device)
  uint32_t max_payload = kDefaultMaxPayload;  // clamped to kMaxPayloadLimit
};

// A decoded frame. `payload` points into the decoder's input (no copy).
struct FrameView {
  FrameHeader header;
  const uint8_t* payload = nullptr;
  // Ok: bytes of the frame (the input may hold more: the next frame).
  // Short: total bytes needed before decoding can go further.
  // Other statuses: the frame's length when its header CRC was good and its
  // payload length within the max (a reader may skip the frame), else 0.
  size_t frame_bytes = 0;
};

// Bytes of a frame with this payload (and a tag).
constexpr size_t frame_bytes_for(uint32_t payload_bytes, bool tagged = false) {
  return kFrameOverheadBytes + payload_bytes + (tagged ? kTagBytes : 0);
}

// The rules a header must satisfy, apart from magic, version, CRCs and plan
// hash: the encoder refuses what the decoder would reject.
DecodeStatus check_header(const FrameHeader& h, uint32_t max_payload);

// Writes one frame to `out`, tagged (kFlagTagged set) if `auth` has a key.
// Returns its length, or 0 if out_capacity is too small or the header breaks
// a check_header rule. `payload` holds h.payload_bytes bytes (may be null
// when that is 0).
size_t encode_frame(const FrameHeader& h, const uint8_t* payload, uint8_t* out, size_t out_capacity,
                    const EncoderConfig& cfg = EncoderConfig{}, const FrameAuth* auth = nullptr);

// A frame's tag made as its bytes stream past, for a link that writes or
// reads a frame in pieces from where they lie (no frame-sized buffer):
// start() with the link's key and nonce, update() with every byte of the
// frame up to its tag, in order (header, payload, payload CRC), finish().
// The device's own HMAC; the same tag encode_frame makes.
class FrameTagger {
 public:
  void start(const uint8_t* key, uint64_t nonce);
  void update(const uint8_t* data, size_t size) { mac_.update(data, size); }
  void finish(uint8_t tag[kTagBytes]);

 private:
  HmacSha256 mac_;
};

// Replaces the tag of a whole tagged frame (as decode_frame accepted it)
// with its tag under `auth`: a relay forwards a frame from one link onto
// another, whose nonce differs, without re-encoding it.
void retag_frame(uint8_t* frame, size_t frame_bytes, const FrameAuth& auth);

// Writes a frame's header (kHeaderBytes, its CRC included) to `out`; false
// if the header breaks a check_header rule. On the wire the payload and then
// its CRC (crc32 of the payload, little-endian) follow, so a link that
// writes them from where they lie needs no frame-sized buffer; with a key
// (h.flags has kFlagTagged) the link appends the tag FrameTagger makes.
bool encode_header(const FrameHeader& h, uint8_t* out, const EncoderConfig& cfg = EncoderConfig{});

// Decodes and checks the header only (the first kHeaderBytes), so a stream
// reader can check where a payload goes before it arrives, then read it into
// place and check it with crc32_update against the 4 bytes after it.
// frame_bytes as FrameView::frame_bytes.
DecodeStatus decode_header(const uint8_t* data, size_t size, const DecoderConfig& cfg,
                           FrameHeader* out, size_t* frame_bytes);

// Decodes the frame at the start of data[0, size), its tag checked against
// `auth` (null: no key; a tagged frame without a key, or an untagged one with
// a key, is refused).
DecodeStatus decode_frame(const uint8_t* data, size_t size, const DecoderConfig& cfg,
                          FrameView* out, const FrameAuth* auth = nullptr);

// Flow-control credit of one stream (source -> destination), in payload
// bytes of bulk frames. The sender keeps one to know what it may send; the
// receiver may keep a twin to detect a sender that overruns it.
class CreditWindow {
 public:
  // Adds credit announced by the receiver. False (no change) on overflow.
  bool grant(uint32_t bytes) {
    if (bytes > UINT64_MAX - available_) return false;
    available_ += bytes;
    return true;
  }
  bool can_send(uint32_t bytes) const { return bytes <= available_; }
  // Spends credit. False (no change) if it exceeds what is available.
  bool consume(uint32_t bytes) {
    if (!can_send(bytes)) return false;
    available_ -= bytes;
    return true;
  }
  // The next chunk to send of a message with `remaining` bytes left:
  // min(max_payload, credit, remaining); 0 means wait for credit.
  uint32_t next_chunk(uint32_t remaining, uint32_t max_payload) const {
    uint64_t n = remaining < max_payload ? remaining : max_payload;
    if (n > available_) n = available_;
    return static_cast<uint32_t>(n);
  }
  uint64_t available() const { return available_; }
  // Stop (an abandoned inference) discards what is left.
  void reset() { available_ = 0; }

 private:
  uint64_t available_ = 0;
};

// Payload helpers of the fixed-layout control messages. The readers expect a
// frame decode_frame returned Ok for (which checked the lengths).
inline void encode_credit_payload(uint32_t bytes, uint8_t out[kCreditPayloadBytes]) {
  store_le32(out, bytes);
}
inline uint32_t credit_granted(const FrameView& f) {
  return load_le32(f.payload);
}
inline void encode_ack_payload(uint32_t sequence, uint8_t out[kAckPayloadBytes]) {
  store_le32(out, sequence);
}
inline uint32_t ack_sequence(const uint8_t* payload) {
  return load_le32(payload);
}

// Writes code + text (truncated to fit out_capacity; no terminator) and
// returns the payload length, or 0 if out_capacity < kErrorCodeBytes.
size_t encode_error_payload(ErrorCode code, const char* text, uint8_t* out, size_t out_capacity);
inline ErrorCode error_code(const FrameView& f) {
  return static_cast<ErrorCode>(load_le32(f.payload));
}
// The text is f.payload + kErrorCodeBytes, error_text_bytes(f) bytes long.
inline uint32_t error_text_bytes(const FrameView& f) {
  return f.header.payload_bytes - kErrorCodeBytes;
}

inline void encode_stat(StatKey key, uint64_t value, uint8_t out[kStatRecordBytes]) {
  store_le32(out, static_cast<uint32_t>(key));
  store_le64(out + 4, value);
}
inline uint32_t stat_count(const FrameView& f) {
  return f.header.payload_bytes / kStatRecordBytes;
}
// Record i < stat_count(f); the key may be one this build does not know.
inline void stat_at(const FrameView& f, uint32_t i, uint32_t* key, uint64_t* value) {
  const uint8_t* p = f.payload + static_cast<size_t>(i) * kStatRecordBytes;
  *key = load_le32(p);
  *value = load_le64(p + 4);
}

}  // namespace mcusplit::device
