#include "device/frame_codec.h"

#include <cstring>

#include "device/crc32.h"

namespace mcusplit::device {
namespace {

uint32_t clamp_max_payload(uint32_t max_payload) {
  return max_payload < kMaxPayloadLimit ? max_payload : kMaxPayloadLimit;
}

bool box_is_zero(const core::Box& b) {
  return b.c0 == 0 && b.c1 == 0 && b.y0 == 0 && b.y1 == 0 && b.x0 == 0 && b.x1 == 0;
}

bool box_is_valid(const core::Box& b) {
  return b.c0 >= 0 && b.y0 >= 0 && b.x0 >= 0 && b.c1 >= b.c0 && b.y1 >= b.y0 && b.x1 >= b.x0;
}

// Volume of a valid box as the u32 a message length is; false if it does not
// fit (core::Box::volume would overflow int32 first).
bool box_volume_u32(const core::Box& b, uint32_t* volume) {
  const uint64_t c = static_cast<uint64_t>(b.c1 - b.c0);
  const uint64_t h = static_cast<uint64_t>(b.y1 - b.y0);
  const uint64_t w = static_cast<uint64_t>(b.x1 - b.x0);
  if (c == 0 || h == 0 || w == 0) {
    *volume = 0;
    return true;
  }
  // Each factor is below 2^31, so c * h < 2^62 cannot overflow.
  const uint64_t ch = c * h;
  if (ch > UINT32_MAX || ch * w > UINT32_MAX) return false;
  *volume = static_cast<uint32_t>(ch * w);
  return true;
}

void store_box(uint8_t* p, const core::Box& b) {
  const int32_t v[6] = {b.c0, b.c1, b.y0, b.y1, b.x0, b.x1};
  for (size_t i = 0; i < 6; ++i) store_le32(p + 4 * i, static_cast<uint32_t>(v[i]));
}

core::Box load_box(const uint8_t* p) {
  // Two's complement: C++20 defines the u32 -> i32 conversion as modular.
  auto at = [p](size_t i) { return static_cast<int32_t>(load_le32(p + 4 * i)); };
  return core::Box{at(0), at(1), at(2), at(3), at(4), at(5)};
}

}  // namespace

namespace {

// The first kTagBytes of HMAC-SHA256(key, kFrameTagLabel || nonce (8 bytes,
// little-endian) || the frame up to its tag).
constexpr size_t kTagPrefixBytes = sizeof kFrameTagLabel - 1 + 8;

// What the MAC covers before the frame: the label, then the nonce.
void tag_prefix(uint64_t nonce, uint8_t prefix[kTagPrefixBytes]) {
  for (size_t i = 0; i < sizeof kFrameTagLabel - 1; ++i) {
    prefix[i] = static_cast<uint8_t>(kFrameTagLabel[i]);
  }
  store_le64(prefix + sizeof kFrameTagLabel - 1, nonce);
}

void frame_tag(const FrameAuth& auth, const uint8_t* frame, size_t size, uint8_t tag[kTagBytes]) {
  uint8_t prefix[kTagPrefixBytes];
  tag_prefix(auth.nonce, prefix);
  const FrameMac hmac = auth.mac != nullptr ? auth.mac : prefixed_hmac_sha256;
  uint8_t mac[kSha256Bytes];
  hmac(auth.key, prefix, sizeof prefix, frame, size, mac);
  for (size_t i = 0; i < kTagBytes; ++i) tag[i] = mac[i];
}

}  // namespace

void FrameTagger::start(const uint8_t* key, uint64_t nonce) {
  mac_.start(key, kClusterKeyBytes);
  uint8_t prefix[kTagPrefixBytes];
  tag_prefix(nonce, prefix);
  mac_.update(prefix, sizeof prefix);
}

void FrameTagger::finish(uint8_t tag[kTagBytes]) {
  uint8_t mac[kSha256Bytes];
  mac_.finish(mac);
  for (size_t i = 0; i < kTagBytes; ++i) tag[i] = mac[i];
}

void retag_frame(uint8_t* frame, size_t frame_bytes, const FrameAuth& auth) {
  frame_tag(auth, frame, frame_bytes - kTagBytes, frame + frame_bytes - kTagBytes);
}

const char* decode_status_name(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::Ok:
      return "ok";
    case DecodeStatus::Short:
      return "short frame";
    case DecodeStatus::BadMagic:
      return "bad magic";
    case DecodeStatus::BadVersion:
      return "unsupported protocol version";
    case DecodeStatus::BadLength:
      return "bad length";
    case DecodeStatus::BadCrc:
      return "CRC mismatch";
    case DecodeStatus::WrongPlanHash:
      return "wrong plan hash";
    case DecodeStatus::UnknownType:
      return "unknown message type";
    case DecodeStatus::BadBox:
      return "bad box";
    case DecodeStatus::BadField:
      return "bad field";
    case DecodeStatus::MissingTag:
      return "no authentication tag (this side has a cluster key; has the sender none?)";
    case DecodeStatus::UnexpectedTag:
      return "an authentication tag (this side has no cluster key, --key-file)";
    case DecodeStatus::BadTag:
      return "wrong authentication tag (another cluster key, an altered frame, or one replayed "
             "from another connection)";
  }
  return "unknown status";
}

DecodeStatus check_header(const FrameHeader& h, uint32_t max_payload) {
  if (!is_known_message_type(static_cast<uint8_t>(h.type))) return DecodeStatus::UnknownType;
  if ((h.flags & ~kFlagTagged) != 0 || h.source == h.destination) return DecodeStatus::BadField;
  if (!carries_box(h.type) && (h.tensor != 0 || !box_is_zero(h.box))) return DecodeStatus::BadField;
  if (h.payload_bytes > clamp_max_payload(max_payload)) return DecodeStatus::BadLength;

  if (carries_box(h.type)) {
    if (!box_is_valid(h.box)) return DecodeStatus::BadBox;
    // Data exists to move elements; Start and Result may carry none.
    if (h.type == MessageType::Data && h.box.empty()) return DecodeStatus::BadBox;
    uint32_t volume = 0;
    if (!box_volume_u32(h.box, &volume) || volume != h.message_bytes) {
      return DecodeStatus::BadLength;
    }
  }

  if (is_bulk(h.type)) {
    // Chunks lie inside the message, and only an empty message has an empty
    // chunk (so a peer cannot make a receiver spin on empty frames).
    const uint64_t end = static_cast<uint64_t>(h.chunk_offset) + h.payload_bytes;
    if (end > h.message_bytes) return DecodeStatus::BadLength;
    if (h.payload_bytes == 0 && h.message_bytes != 0) return DecodeStatus::BadLength;
    return DecodeStatus::Ok;
  }

  // Control messages are one frame each.
  if (h.chunk_offset != 0 || h.message_bytes != h.payload_bytes) return DecodeStatus::BadLength;
  switch (h.type) {
    case MessageType::Credit:
      if (h.payload_bytes != kCreditPayloadBytes) return DecodeStatus::BadLength;
      break;
    case MessageType::Ack:
      if (h.payload_bytes != kAckPayloadBytes) return DecodeStatus::BadLength;
      break;
    case MessageType::Stop:
      if (h.payload_bytes != 0) return DecodeStatus::BadLength;
      break;
    case MessageType::Error:
      if (h.payload_bytes < kErrorCodeBytes) return DecodeStatus::BadLength;
      break;
    case MessageType::Stats:
      if (h.payload_bytes % kStatRecordBytes != 0) return DecodeStatus::BadLength;
      break;
    default:  // Ping and Pong: any payload
      break;
  }
  return DecodeStatus::Ok;
}

bool encode_header(const FrameHeader& h, uint8_t* out, const EncoderConfig& cfg) {
  if (out == nullptr || check_header(h, cfg.max_payload) != DecodeStatus::Ok) return false;
  for (size_t i = 0; i < 4; ++i) out[kOffMagic + i] = kFrameMagic[i];
  out[kOffVersion] = kProtocolVersion;
  out[kOffType] = static_cast<uint8_t>(h.type);
  store_le16(out + kOffFlags, h.flags);
  store_le16(out + kOffSource, h.source);
  store_le16(out + kOffDestination, h.destination);
  store_le64(out + kOffPlanHash, h.plan_hash);
  store_le32(out + kOffInferenceId, h.inference_id);
  store_le32(out + kOffSequence, h.sequence);
  store_le32(out + kOffTensor, h.tensor);
  store_box(out + kOffBox, h.box);
  store_le32(out + kOffMessageBytes, h.message_bytes);
  store_le32(out + kOffChunkOffset, h.chunk_offset);
  store_le32(out + kOffPayloadBytes, h.payload_bytes);
  store_le32(out + kOffHeaderCrc, crc32(out, kOffHeaderCrc));
  return true;
}

size_t encode_frame(const FrameHeader& header, const uint8_t* payload, uint8_t* out,
                    size_t out_capacity, const EncoderConfig& cfg, const FrameAuth* auth) {
  if (payload == nullptr && header.payload_bytes != 0) return 0;
  const bool tagged = auth != nullptr && auth->key != nullptr;
  // A tag is the encoder's to make: a caller's flag without a key would
  // promise one that is not there.
  if ((header.flags & kFlagTagged) != 0 && !tagged) return 0;
  FrameHeader h = header;
  if (tagged) h.flags |= kFlagTagged;
  const size_t total = frame_bytes_for(h.payload_bytes, tagged);
  if (out == nullptr || out_capacity < total || !encode_header(h, out, cfg)) return 0;
  uint8_t* body = out + kHeaderBytes;
  if (h.payload_bytes != 0) std::memcpy(body, payload, h.payload_bytes);
  store_le32(body + h.payload_bytes, crc32(body, h.payload_bytes));
  if (tagged) frame_tag(*auth, out, total - kTagBytes, out + total - kTagBytes);
  return total;
}

DecodeStatus decode_header(const uint8_t* data, size_t size, const DecoderConfig& cfg,
                           FrameHeader* out, size_t* frame_bytes) {
  if (frame_bytes != nullptr) *frame_bytes = 0;
  if (data == nullptr) size = 0;

  // Magic and version are checked on whatever has arrived, so a stream reader
  // rejects garbage at once instead of waiting for a whole header of it.
  for (size_t i = 0; i < 4 && i < size; ++i) {
    if (data[kOffMagic + i] != kFrameMagic[i]) return DecodeStatus::BadMagic;
  }
  if (size > kOffVersion && data[kOffVersion] != kProtocolVersion) {
    return DecodeStatus::BadVersion;
  }
  if (size < kHeaderBytes) {
    if (frame_bytes != nullptr) *frame_bytes = kHeaderBytes;
    return DecodeStatus::Short;
  }
  // Nothing after the version is trusted before the header CRC matches.
  if (crc32(data, kOffHeaderCrc) != load_le32(data + kOffHeaderCrc)) return DecodeStatus::BadCrc;

  FrameHeader h;
  h.type = static_cast<MessageType>(data[kOffType]);
  h.flags = load_le16(data + kOffFlags);
  h.source = load_le16(data + kOffSource);
  h.destination = load_le16(data + kOffDestination);
  h.plan_hash = load_le64(data + kOffPlanHash);
  h.inference_id = load_le32(data + kOffInferenceId);
  h.sequence = load_le32(data + kOffSequence);
  h.tensor = load_le32(data + kOffTensor);
  h.box = load_box(data + kOffBox);
  h.message_bytes = load_le32(data + kOffMessageBytes);
  h.chunk_offset = load_le32(data + kOffChunkOffset);
  h.payload_bytes = load_le32(data + kOffPayloadBytes);
  if (out != nullptr) *out = h;

  // The header is sound from here on: report the frame's extent whenever its
  // length is acceptable, so a reader can skip a frame it rejects.
  const uint32_t max_payload = clamp_max_payload(cfg.max_payload);
  if (h.payload_bytes <= max_payload && frame_bytes != nullptr) {
    *frame_bytes = frame_bytes_for(h.payload_bytes, (h.flags & kFlagTagged) != 0);
  }
  if (!is_known_message_type(data[kOffType])) return DecodeStatus::UnknownType;
  if (cfg.expected_plan_hash != 0 && h.plan_hash != cfg.expected_plan_hash) {
    return DecodeStatus::WrongPlanHash;
  }
  return check_header(h, max_payload);
}

DecodeStatus decode_frame(const uint8_t* data, size_t size, const DecoderConfig& cfg,
                          FrameView* out, const FrameAuth* auth) {
  FrameView local;
  FrameView* view = out != nullptr ? out : &local;
  *view = FrameView{};
  if (data == nullptr) size = 0;

  const DecodeStatus status = decode_header(data, size, cfg, &view->header, &view->frame_bytes);
  if (status != DecodeStatus::Ok) return status;
  if (size < view->frame_bytes) return DecodeStatus::Short;

  const uint8_t* body = data + kHeaderBytes;
  const uint32_t n = view->header.payload_bytes;
  if (crc32(body, n) != load_le32(body + n)) return DecodeStatus::BadCrc;
  const bool tagged = (view->header.flags & kFlagTagged) != 0;
  const bool keyed = auth != nullptr && auth->key != nullptr;
  if (tagged && !keyed) return DecodeStatus::UnexpectedTag;
  if (!tagged && keyed) return DecodeStatus::MissingTag;
  if (tagged) {
    const size_t signed_bytes = view->frame_bytes - kTagBytes;
    uint8_t expected[kTagBytes];
    frame_tag(*auth, data, signed_bytes, expected);
    if (!equal_in_constant_time(expected, data + signed_bytes, kTagBytes)) {
      return DecodeStatus::BadTag;
    }
  }
  view->payload = body;
  return DecodeStatus::Ok;
}

size_t encode_error_payload(ErrorCode code, const char* text, uint8_t* out, size_t out_capacity) {
  if (out == nullptr || out_capacity < kErrorCodeBytes) return 0;
  store_le32(out, static_cast<uint32_t>(code));
  size_t n = kErrorCodeBytes;
  for (const char* c = text; c != nullptr && *c != '\0' && n < out_capacity; ++c) {
    out[n++] = static_cast<uint8_t>(*c);
  }
  return n;
}

}  // namespace mcusplit::device
