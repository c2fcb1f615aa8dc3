// The wire protocol's frame codec (docs/protocol.md): CRC-32, layout, round
// trips of every message type, every malformed-frame case, chunking under
// credit, and CreditWindow. Truncated frames are decoded from heap copies of
// exactly the truncated size, so an over-read shows up under the asan preset.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "device/crc32.h"
#include "device/frame_codec.h"
#include "device/protocol.h"

namespace mcusplit::device {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kPlanHash = 0x85944171f73967e8ull;

Bytes as_bytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

FrameHeader base_header(MessageType type) {
  FrameHeader h;
  h.type = type;
  h.source = 2;
  h.destination = 5;
  h.plan_hash = kPlanHash;
  h.inference_id = 7;
  h.sequence = 41;
  return h;
}

// A well-formed single-frame message of `type` with `payload`.
FrameHeader control_header(MessageType type, const Bytes& payload) {
  FrameHeader h = base_header(type);
  h.message_bytes = static_cast<uint32_t>(payload.size());
  h.payload_bytes = h.message_bytes;
  return h;
}

// A box message: chunk [offset, offset + payload.size()) of the box's bytes.
FrameHeader box_header(MessageType type, const core::Box& box, uint32_t offset, size_t payload) {
  FrameHeader h = base_header(type);
  h.tensor = 12;
  h.box = box;
  h.message_bytes = static_cast<uint32_t>(box.volume());
  h.chunk_offset = offset;
  h.payload_bytes = static_cast<uint32_t>(payload);
  return h;
}

Bytes pattern(size_t n, uint8_t seed = 1) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + 31 * i);
  return b;
}

Bytes encode(const FrameHeader& h, const Bytes& payload, const EncoderConfig& cfg = {}) {
  Bytes out(frame_bytes_for(h.payload_bytes));
  const size_t n = encode_frame(h, payload.data(), out.data(), out.size(), cfg);
  EXPECT_EQ(n, out.size());
  return out;
}

// After patching header bytes, recomputes the header CRC so the patched field
// itself, not the CRC, is what the decoder sees.
void reseal_header(Bytes& frame) {
  store_le32(frame.data() + kOffHeaderCrc, crc32(frame.data(), kOffHeaderCrc));
}

DecodeStatus decode(const Bytes& frame, const DecoderConfig& cfg = {}, FrameView* view = nullptr) {
  FrameView local;
  return decode_frame(frame.data(), frame.size(), cfg, view != nullptr ? view : &local);
}

void expect_same_header(const FrameHeader& a, const FrameHeader& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.destination, b.destination);
  EXPECT_EQ(a.plan_hash, b.plan_hash);
  EXPECT_EQ(a.inference_id, b.inference_id);
  EXPECT_EQ(a.sequence, b.sequence);
  EXPECT_EQ(a.tensor, b.tensor);
  EXPECT_EQ(a.box, b.box);
  EXPECT_EQ(a.message_bytes, b.message_bytes);
  EXPECT_EQ(a.chunk_offset, b.chunk_offset);
  EXPECT_EQ(a.payload_bytes, b.payload_bytes);
}

// One well-formed frame of every message type.
struct Sample {
  FrameHeader header;
  Bytes payload;
};

std::vector<Sample> one_of_each_type() {
  std::vector<Sample> s;
  const core::Box box{0, 8, 2, 5, 0, 4};  // 96 bytes
  s.push_back({box_header(MessageType::Data, box, 0, 96), pattern(96)});
  Bytes credit(kCreditPayloadBytes);
  encode_credit_payload(4096, credit.data());
  s.push_back({control_header(MessageType::Credit, credit), credit});
  FrameHeader provision = base_header(MessageType::Provision);
  provision.inference_id = kNoInference;
  provision.message_bytes = 5000;
  provision.chunk_offset = 1372;
  provision.payload_bytes = 1372;
  s.push_back({provision, pattern(1372, 9)});
  s.push_back({box_header(MessageType::Start, core::Box{0, 3, 0, 4, 0, 4}, 0, 48), pattern(48)});
  s.push_back({box_header(MessageType::Start, core::Box{}, 0, 0), Bytes{}});  // no input
  s.push_back({box_header(MessageType::Result, core::Box{0, 10, 0, 1, 0, 1}, 0, 10), pattern(10)});
  Bytes stats(size_t{2} * kStatRecordBytes);
  encode_stat(StatKey::ComputeMicros, 123456789012ull, stats.data());
  encode_stat(StatKey::BytesSent, 42, stats.data() + kStatRecordBytes);
  s.push_back({control_header(MessageType::Stats, stats), stats});
  Bytes error(64);
  error.resize(encode_error_payload(ErrorCode::CreditExceeded, "overrun", error.data(), 64));
  s.push_back({control_header(MessageType::Error, error), error});
  s.push_back({control_header(MessageType::Stop, Bytes{}), Bytes{}});
  s.push_back({control_header(MessageType::Ping, pattern(8)), pattern(8)});
  s.push_back({control_header(MessageType::Pong, pattern(8)), pattern(8)});
  s.push_back({control_header(MessageType::Ping, Bytes{}), Bytes{}});
  Bytes ack(kAckPayloadBytes);
  encode_ack_payload(0xFFFFFFFEu, ack.data());
  s.push_back({control_header(MessageType::Ack, ack), ack});
  return s;
}

TEST(Crc32, StandardCheckValues) {
  const Bytes check = as_bytes("123456789");
  EXPECT_EQ(crc32(check.data(), check.size()), 0xCBF43926u);
  EXPECT_EQ(crc32(nullptr, 0), 0u);
  const Bytes a = as_bytes("a");
  EXPECT_EQ(crc32(a.data(), a.size()), 0xE8B7BE43u);
  const Bytes fox = as_bytes("The quick brown fox jumps over the lazy dog");
  EXPECT_EQ(crc32(fox.data(), fox.size()), 0x414FA339u);
  const Bytes zeros(32, 0);
  EXPECT_EQ(crc32(zeros.data(), zeros.size()), 0x190A55ADu);
}

TEST(Crc32, UpdateContinuesAcrossPieces) {
  const Bytes fox = as_bytes("The quick brown fox jumps over the lazy dog");
  for (size_t split = 0; split <= fox.size(); ++split) {
    const uint32_t head = crc32(fox.data(), split);
    EXPECT_EQ(crc32_update(head, fox.data() + split, fox.size() - split), 0x414FA339u);
  }
}

TEST(LittleEndian, ByteOrderAndOddAlignment) {
  uint8_t buf[11] = {};
  store_le32(buf + 1, 0x01020304u);  // odd address on purpose
  EXPECT_EQ(buf[1], 0x04);
  EXPECT_EQ(buf[4], 0x01);
  EXPECT_EQ(load_le32(buf + 1), 0x01020304u);
  store_le64(buf + 3, 0x1122334455667788ull);
  EXPECT_EQ(buf[3], 0x88);
  EXPECT_EQ(buf[10], 0x11);
  EXPECT_EQ(load_le64(buf + 3), 0x1122334455667788ull);
  store_le16(buf, 0xBEEF);
  EXPECT_EQ(buf[0], 0xEF);
  EXPECT_EQ(load_le16(buf), 0xBEEF);
}

TEST(FrameLayout, FieldsAtDocumentedOffsets) {
  FrameHeader h = box_header(MessageType::Data, core::Box{1, 3, 4, 6, 7, 8}, 0, 4);
  h.source = 0x0102;
  h.destination = 0x0304;
  h.plan_hash = 0x1122334455667788ull;
  h.inference_id = 0xA0B0C0D0u;
  h.sequence = 0x01020304u;
  h.tensor = 0x00000063u;
  const Bytes payload = {9, 8, 7, 6};
  const Bytes f = encode(h, payload);
  ASSERT_EQ(f.size(), 72u + 4u + 4u);
  EXPECT_EQ(std::string(f.begin(), f.begin() + 4), "MSPF");
  EXPECT_EQ(f[4], 3);  // version
  EXPECT_EQ(f[5], 1);  // Data
  EXPECT_EQ(load_le16(&f[6]), 0);
  EXPECT_EQ(f[8], 0x02);
  EXPECT_EQ(f[9], 0x01);
  EXPECT_EQ(load_le16(&f[10]), 0x0304);
  EXPECT_EQ(f[12], 0x88);
  EXPECT_EQ(f[19], 0x11);
  EXPECT_EQ(load_le32(&f[20]), 0xA0B0C0D0u);
  EXPECT_EQ(load_le32(&f[24]), 0x01020304u);
  EXPECT_EQ(load_le32(&f[28]), 0x63u);
  const int32_t box[6] = {1, 3, 4, 6, 7, 8};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(load_le32(&f[32 + 4 * i]), static_cast<uint32_t>(box[i]));
  EXPECT_EQ(load_le32(&f[56]), 4u);  // message bytes = box volume 2*2*1
  EXPECT_EQ(load_le32(&f[60]), 0u);
  EXPECT_EQ(load_le32(&f[64]), 4u);
  EXPECT_EQ(load_le32(&f[68]), crc32(f.data(), 68));
  EXPECT_EQ(Bytes(f.begin() + 72, f.begin() + 76), payload);
  EXPECT_EQ(load_le32(&f[76]), crc32(payload.data(), payload.size()));
}

TEST(FrameCodec, RoundTripEveryType) {
  std::set<MessageType> seen;
  for (const Sample& s : one_of_each_type()) {
    SCOPED_TRACE(message_type_name(s.header.type));
    const Bytes f = encode(s.header, s.payload);
    FrameView view;
    ASSERT_EQ(decode(f, DecoderConfig{kPlanHash}, &view), DecodeStatus::Ok);
    expect_same_header(view.header, s.header);
    EXPECT_EQ(view.frame_bytes, f.size());
    EXPECT_EQ(view.payload, f.data() + kHeaderBytes);
    EXPECT_EQ(Bytes(view.payload, view.payload + view.header.payload_bytes), s.payload);
    seen.insert(s.header.type);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kMaxMessageType));
}

TEST(FrameCodec, ControlPayloadHelpers) {
  std::vector<Sample> samples = one_of_each_type();
  for (const Sample& s : samples) {
    const Bytes f = encode(s.header, s.payload);
    FrameView v;
    ASSERT_EQ(decode(f, {}, &v), DecodeStatus::Ok);
    if (s.header.type == MessageType::Credit) {
      EXPECT_EQ(credit_granted(v), 4096u);
    }
    if (s.header.type == MessageType::Error) {
      EXPECT_EQ(error_code(v), ErrorCode::CreditExceeded);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.payload + kErrorCodeBytes),
                            error_text_bytes(v)),
                "overrun");
    }
    if (s.header.type == MessageType::Stats) {
      ASSERT_EQ(stat_count(v), 2u);
      uint32_t key = 0;
      uint64_t value = 0;
      stat_at(v, 0, &key, &value);
      EXPECT_EQ(key, static_cast<uint32_t>(StatKey::ComputeMicros));
      EXPECT_EQ(value, 123456789012ull);
      stat_at(v, 1, &key, &value);
      EXPECT_EQ(key, static_cast<uint32_t>(StatKey::BytesSent));
      EXPECT_EQ(value, 42u);
    }
  }
  // Error text is cut to the buffer; the code always fits or nothing is written.
  uint8_t small[6];
  EXPECT_EQ(encode_error_payload(ErrorCode::BadFrame, "bad crc", small, sizeof small), 6u);
  EXPECT_EQ(small[4], 'b');
  EXPECT_EQ(small[5], 'a');
  EXPECT_EQ(encode_error_payload(ErrorCode::BadFrame, "x", small, 3), 0u);
  EXPECT_EQ(encode_error_payload(ErrorCode::BadFrame, nullptr, small, sizeof small), 4u);
}

TEST(FrameCodec, TrailingBytesAreTheNextFrame) {
  const std::vector<Sample> samples = one_of_each_type();
  Bytes stream;
  for (const Sample& s : samples) {
    const Bytes f = encode(s.header, s.payload);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  size_t pos = 0;
  for (const Sample& s : samples) {
    FrameView v;
    ASSERT_EQ(decode_frame(stream.data() + pos, stream.size() - pos, {}, &v), DecodeStatus::Ok);
    EXPECT_EQ(v.header.type, s.header.type);
    pos += v.frame_bytes;
  }
  EXPECT_EQ(pos, stream.size());
}

TEST(FrameCodec, EncoderRefusesSmallBufferAndMissingPayload) {
  const FrameHeader h = box_header(MessageType::Data, core::Box{0, 1, 0, 1, 0, 10}, 0, 10);
  const Bytes payload = pattern(10);
  Bytes out(frame_bytes_for(10));
  EXPECT_EQ(encode_frame(h, payload.data(), out.data(), out.size() - 1), 0u);
  EXPECT_EQ(encode_frame(h, nullptr, out.data(), out.size()), 0u);
  EXPECT_EQ(encode_frame(h, payload.data(), nullptr, out.size()), 0u);
  EXPECT_EQ(encode_frame(h, payload.data(), out.data(), out.size()), out.size());
}

// A link that writes the header, then the payload from where it lies, then
// its CRC, puts the same bytes on the wire as encode_frame; a header the
// encoder refuses is refused without a buffer too.
TEST(FrameCodec, HeaderPayloadAndCrcWrittenApartAreTheFrame) {
  for (const Sample& s : one_of_each_type()) {
    SCOPED_TRACE(message_type_name(s.header.type));
    Bytes wire(kHeaderBytes);
    ASSERT_TRUE(encode_header(s.header, wire.data()));
    wire.insert(wire.end(), s.payload.begin(), s.payload.end());
    uint8_t crc[kCrcBytes];
    store_le32(crc, crc32(s.payload.data(), s.payload.size()));
    wire.insert(wire.end(), crc, crc + kCrcBytes);
    EXPECT_EQ(wire, encode(s.header, s.payload));
  }
  FrameHeader bad = control_header(MessageType::Stop, {});
  bad.destination = bad.source;
  uint8_t out[kHeaderBytes];
  EXPECT_FALSE(encode_header(bad, out));
  EXPECT_FALSE(encode_header(control_header(MessageType::Ping, pattern(20)), nullptr));
  EncoderConfig small;
  small.max_payload = 19;
  EXPECT_FALSE(encode_header(control_header(MessageType::Ping, pattern(20)), out, small));
}

// Every proper prefix of a valid frame is Short, says how many bytes it needs,
// and is decoded from a buffer of exactly its size (ASan catches over-reads).
TEST(FrameDecoder, EveryTruncationIsShort) {
  for (const Sample& s : one_of_each_type()) {
    SCOPED_TRACE(message_type_name(s.header.type));
    const Bytes f = encode(s.header, s.payload);
    for (size_t n = 0; n < f.size(); ++n) {
      std::unique_ptr<uint8_t[]> exact(new uint8_t[n == 0 ? 1 : n]);
      std::memcpy(exact.get(), f.data(), n);
      FrameView v;
      ASSERT_EQ(decode_frame(n == 0 ? nullptr : exact.get(), n, {}, &v), DecodeStatus::Short)
          << "prefix of " << n << " bytes";
      EXPECT_GT(v.frame_bytes, n);
      EXPECT_EQ(v.frame_bytes, n < kHeaderBytes ? kHeaderBytes : f.size());
      EXPECT_EQ(v.payload, nullptr);
    }
  }
}

// A stream reader that only knows "need frame_bytes" gets every frame when the
// bytes trickle in one at a time.
TEST(FrameDecoder, ByteAtATimeStreamReader) {
  const std::vector<Sample> samples = one_of_each_type();
  Bytes stream;
  for (const Sample& s : samples) {
    const Bytes f = encode(s.header, s.payload);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  Bytes pending;
  size_t decoded = 0;
  for (uint8_t byte : stream) {
    pending.push_back(byte);
    FrameView v;
    const DecodeStatus st = decode_frame(pending.data(), pending.size(), {}, &v);
    if (st == DecodeStatus::Short) {
      ASSERT_GT(v.frame_bytes, pending.size());
      continue;
    }
    ASSERT_EQ(st, DecodeStatus::Ok);
    ASSERT_EQ(v.frame_bytes, pending.size());
    expect_same_header(v.header, samples[decoded].header);
    ++decoded;
    pending.clear();
  }
  EXPECT_EQ(decoded, samples.size());
  EXPECT_TRUE(pending.empty());
}

TEST(FrameDecoder, HeaderOnlyDecodeForStreamingIntoPlace) {
  const Sample s = one_of_each_type()[0];
  const Bytes f = encode(s.header, s.payload);
  FrameHeader h;
  size_t total = 0;
  EXPECT_EQ(decode_header(f.data(), kHeaderBytes, {}, &h, &total), DecodeStatus::Ok);
  expect_same_header(h, s.header);
  EXPECT_EQ(total, f.size());
  // The payload CRC follows the payload.
  EXPECT_EQ(crc32(f.data() + kHeaderBytes, h.payload_bytes),
            load_le32(f.data() + kHeaderBytes + h.payload_bytes));
}

TEST(FrameDecoder, BadMagic) {
  const Bytes f = encode(control_header(MessageType::Ping, Bytes{}), Bytes{});
  for (size_t i = 0; i < 4; ++i) {
    Bytes bad = f;
    bad[i] ^= 0x20;  // "mSPF" and friends
    EXPECT_EQ(decode(bad), DecodeStatus::BadMagic);
    // Rejected as soon as the wrong byte has arrived, not after a whole header.
    EXPECT_EQ(decode_frame(bad.data(), i + 1, {}, nullptr), DecodeStatus::BadMagic);
  }
  const Bytes http = as_bytes("GET / HTTP/1.1\r\n");
  EXPECT_EQ(decode(http), DecodeStatus::BadMagic);
}

TEST(FrameDecoder, BadVersion) {
  const Bytes f = encode(control_header(MessageType::Ping, Bytes{}), Bytes{});
  for (int version : {0, 1, 2, 4, 255}) {
    Bytes bad = f;
    bad[kOffVersion] = static_cast<uint8_t>(version);
    reseal_header(bad);
    EXPECT_EQ(decode(bad), DecodeStatus::BadVersion);
    EXPECT_EQ(decode_frame(bad.data(), kOffVersion + 1, {}, nullptr), DecodeStatus::BadVersion);
  }
}

TEST(FrameDecoder, PayloadOverTheMaximum) {
  const core::Box box{0, 1, 0, 1, 0, 2000};
  const FrameHeader h = box_header(MessageType::Data, box, 0, 1500);
  const Bytes payload = pattern(1500);
  Bytes out(frame_bytes_for(1500));
  // The encoder keeps to its own maximum...
  EXPECT_EQ(encode_frame(h, payload.data(), out.data(), out.size()), 0u);
  // ...and the decoder to its own.
  const Bytes f = encode(h, payload, EncoderConfig{2000});
  FrameView v;
  EXPECT_EQ(decode(f, {}, &v), DecodeStatus::BadLength);
  EXPECT_EQ(v.frame_bytes, 0u);  // not skippable: the length is not acceptable
  EXPECT_EQ(decode(f, DecoderConfig{0, 1500}), DecodeStatus::Ok);
  EXPECT_EQ(decode(f, DecoderConfig{0, 1499}), DecodeStatus::BadLength);

  // A huge claimed length is rejected from the header alone, not waited for.
  Bytes huge = encode(control_header(MessageType::Ping, Bytes{}), Bytes{});
  store_le32(huge.data() + kOffPayloadBytes, 0xFFFFFFFFu);
  store_le32(huge.data() + kOffMessageBytes, 0xFFFFFFFFu);
  reseal_header(huge);
  EXPECT_EQ(decode_frame(huge.data(), kHeaderBytes, {}, nullptr), DecodeStatus::BadLength);
  // Even a config asking for more than the limit is clamped to it.
  EXPECT_EQ(decode_frame(huge.data(), kHeaderBytes, DecoderConfig{0, 0xFFFFFFFFu}, nullptr),
            DecodeStatus::BadLength);
}

// Every byte of a frame changed in turn: never Ok, and exactly the status the
// first check that sees the change gives.
TEST(FrameDecoder, CorruptingAnyByteIsDetected) {
  for (const Sample& s : one_of_each_type()) {
    SCOPED_TRACE(message_type_name(s.header.type));
    const Bytes f = encode(s.header, s.payload);
    for (size_t i = 0; i < f.size(); ++i) {
      for (int mask : {0x01, 0x80, 0xFF}) {
        Bytes bad = f;
        bad[i] = static_cast<uint8_t>(bad[i] ^ mask);
        const DecodeStatus st = decode(bad);
        const DecodeStatus expected = i < 4              ? DecodeStatus::BadMagic
                                      : i == kOffVersion ? DecodeStatus::BadVersion
                                                         : DecodeStatus::BadCrc;
        ASSERT_EQ(st, expected) << "byte " << i << " mask " << mask;
      }
    }
  }
}

TEST(FrameDecoder, WrongPlanHash) {
  const Bytes f = encode(control_header(MessageType::Ping, Bytes{}), Bytes{});
  FrameView v;
  EXPECT_EQ(decode(f, DecoderConfig{kPlanHash + 1}, &v), DecodeStatus::WrongPlanHash);
  EXPECT_EQ(v.frame_bytes, f.size());  // the header was sound: skippable
  EXPECT_EQ(v.header.source, 2);       // and says who sent it
  EXPECT_EQ(decode(f, DecoderConfig{kPlanHash}), DecodeStatus::Ok);
  EXPECT_EQ(decode(f, DecoderConfig{0}), DecodeStatus::Ok);  // unprovisioned: any plan
}

TEST(FrameDecoder, UnknownType) {
  const Bytes f = encode(control_header(MessageType::Ping, Bytes{}), Bytes{});
  for (int type : {0, 12, 128, 255}) {
    Bytes bad = f;
    bad[kOffType] = static_cast<uint8_t>(type);
    reseal_header(bad);
    FrameView v;
    EXPECT_EQ(decode(bad, {}, &v), DecodeStatus::UnknownType) << type;
    EXPECT_EQ(v.frame_bytes, f.size());
  }
  FrameHeader h = control_header(MessageType::Ping, Bytes{});
  h.type = static_cast<MessageType>(42);
  uint8_t out[128];
  EXPECT_EQ(encode_frame(h, nullptr, out, sizeof out), 0u);
}

// Patches the box (and optionally the message length) of a valid Data frame.
Bytes data_frame_with_box(const int32_t box[6], uint32_t message_bytes) {
  Bytes f = encode(box_header(MessageType::Data, core::Box{0, 2, 0, 2, 0, 2}, 0, 8), pattern(8));
  for (size_t i = 0; i < 6; ++i) store_le32(&f[kOffBox + 4 * i], static_cast<uint32_t>(box[i]));
  store_le32(&f[kOffMessageBytes], message_bytes);
  reseal_header(f);
  return f;
}

TEST(FrameDecoder, BadBox) {
  const int32_t negative[6] = {-1, 1, 0, 2, 0, 4};
  EXPECT_EQ(decode(data_frame_with_box(negative, 8)), DecodeStatus::BadBox);
  const int32_t inverted[6] = {0, 2, 5, 3, 0, 2};
  EXPECT_EQ(decode(data_frame_with_box(inverted, 8)), DecodeStatus::BadBox);
  const int32_t min_int[6] = {0, 2, 0, 2, INT32_MIN, 2};
  EXPECT_EQ(decode(data_frame_with_box(min_int, 8)), DecodeStatus::BadBox);
  const int32_t empty[6] = {3, 3, 0, 2, 0, 2};
  EXPECT_EQ(decode(data_frame_with_box(empty, 8)), DecodeStatus::BadBox);
  // Start and Result may carry an empty box (no elements), never an inverted one.
  FrameHeader start = box_header(MessageType::Start, core::Box{}, 0, 0);
  EXPECT_EQ(check_header(start, kDefaultMaxPayload), DecodeStatus::Ok);
  start.box = core::Box{0, 1, 0, 1, 2, 1};
  EXPECT_EQ(check_header(start, kDefaultMaxPayload), DecodeStatus::BadBox);
  uint8_t out[128];
  EXPECT_EQ(encode_frame(start, nullptr, out, sizeof out), 0u);
}

TEST(FrameDecoder, BoxVolumeMustMatchTheMessageLength) {
  const int32_t box[6] = {0, 2, 0, 2, 0, 2};
  EXPECT_EQ(decode(data_frame_with_box(box, 8)), DecodeStatus::Ok);
  EXPECT_EQ(decode(data_frame_with_box(box, 9)), DecodeStatus::BadLength);
  EXPECT_EQ(decode(data_frame_with_box(box, 7)), DecodeStatus::BadLength);
  // Volume beyond 32 bits (no int32 overflow on the way) never matches.
  const int32_t huge[6] = {0, INT32_MAX, 0, INT32_MAX, 0, INT32_MAX};
  EXPECT_EQ(decode(data_frame_with_box(huge, 8)), DecodeStatus::BadLength);
  const int32_t wraps[6] = {0, 65536, 0, 65536, 0, 1};  // 2^32, would wrap to 0
  EXPECT_EQ(decode(data_frame_with_box(wraps, 0)), DecodeStatus::BadLength);
}

TEST(FrameDecoder, ChunkAndControlLengthRules) {
  const Bytes payload = pattern(16);
  auto status_of = [](const FrameHeader& h) { return check_header(h, kDefaultMaxPayload); };

  // A chunk must lie inside its message.
  const core::Box box{0, 4, 0, 4, 0, 2};  // 32 bytes
  EXPECT_EQ(status_of(box_header(MessageType::Data, box, 16, 16)), DecodeStatus::Ok);
  EXPECT_EQ(status_of(box_header(MessageType::Data, box, 17, 16)), DecodeStatus::BadLength);
  EXPECT_EQ(status_of(box_header(MessageType::Data, box, 0xFFFFFFF0u, 16)),
            DecodeStatus::BadLength);  // offset + length wraps 32 bits
  EXPECT_EQ(status_of(box_header(MessageType::Data, box, 8, 0)), DecodeStatus::BadLength);

  FrameHeader credit = control_header(MessageType::Credit, Bytes(4));
  EXPECT_EQ(status_of(credit), DecodeStatus::Ok);
  credit.payload_bytes = credit.message_bytes = 3;
  EXPECT_EQ(status_of(credit), DecodeStatus::BadLength);
  EXPECT_EQ(status_of(control_header(MessageType::Stop, Bytes(1))), DecodeStatus::BadLength);
  EXPECT_EQ(status_of(control_header(MessageType::Error, Bytes(3))), DecodeStatus::BadLength);
  EXPECT_EQ(status_of(control_header(MessageType::Error, Bytes(4))), DecodeStatus::Ok);
  EXPECT_EQ(status_of(control_header(MessageType::Stats, Bytes(13))), DecodeStatus::BadLength);
  EXPECT_EQ(status_of(control_header(MessageType::Stats, Bytes(24))), DecodeStatus::Ok);
  EXPECT_EQ(status_of(control_header(MessageType::Ack, Bytes(4))), DecodeStatus::Ok);
  EXPECT_EQ(status_of(control_header(MessageType::Ack, Bytes(0))), DecodeStatus::BadLength);
  EXPECT_EQ(status_of(control_header(MessageType::Ack, Bytes(8))), DecodeStatus::BadLength);
  // Control messages are never chunked.
  FrameHeader ping = control_header(MessageType::Ping, Bytes(8));
  ping.chunk_offset = 8;
  ping.message_bytes = 16;
  EXPECT_EQ(status_of(ping), DecodeStatus::BadLength);

  // The decoder applies the same rules to what arrives.
  Bytes f = encode(control_header(MessageType::Ping, payload), payload);
  store_le32(&f[kOffMessageBytes], 17);
  reseal_header(f);
  EXPECT_EQ(decode(f), DecodeStatus::BadLength);
}

TEST(FrameDecoder, BadField) {
  auto status_of = [](const FrameHeader& h) { return check_header(h, kDefaultMaxPayload); };
  FrameHeader h = control_header(MessageType::Ping, Bytes{});
  h.flags = 2;  // bit 0 is kFlagTagged; the others are reserved
  EXPECT_EQ(status_of(h), DecodeStatus::BadField);
  h.flags = 0x8000;
  EXPECT_EQ(status_of(h), DecodeStatus::BadField);
  h = control_header(MessageType::Ping, Bytes{});
  h.destination = h.source;
  EXPECT_EQ(status_of(h), DecodeStatus::BadField);
  h = control_header(MessageType::Credit, Bytes(4));
  h.tensor = 3;
  EXPECT_EQ(status_of(h), DecodeStatus::BadField);
  h = control_header(MessageType::Stop, Bytes{});
  h.box.x1 = 1;
  EXPECT_EQ(status_of(h), DecodeStatus::BadField);
  FrameHeader provision = base_header(MessageType::Provision);
  provision.message_bytes = provision.payload_bytes = 4;
  provision.tensor = 1;
  EXPECT_EQ(status_of(provision), DecodeStatus::BadField);

  Bytes f = encode(control_header(MessageType::Ping, Bytes{}), Bytes{});
  store_le16(&f[kOffFlags], 0x8000);
  reseal_header(f);
  EXPECT_EQ(decode(f), DecodeStatus::BadField);
}

TEST(FrameDecoder, StatusNamesAreDistinct) {
  std::set<std::string> names;
  for (int s = 0; s <= static_cast<int>(DecodeStatus::BadField); ++s) {
    names.insert(decode_status_name(static_cast<DecodeStatus>(s)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(DecodeStatus::BadField) + 1);
  EXPECT_EQ(names.count("unknown status"), 0u);
}

TEST(CreditWindow, NeverSendsMoreThanGranted) {
  CreditWindow w;
  EXPECT_EQ(w.available(), 0u);
  EXPECT_TRUE(w.can_send(0));
  EXPECT_FALSE(w.can_send(1));
  EXPECT_FALSE(w.consume(1));
  EXPECT_EQ(w.next_chunk(100, 1400), 0u);  // wait for credit

  EXPECT_TRUE(w.grant(1000));
  EXPECT_TRUE(w.grant(500));  // grants add up
  EXPECT_EQ(w.available(), 1500u);
  EXPECT_EQ(w.next_chunk(5000, 1400), 1400u);  // the max payload bounds it
  EXPECT_EQ(w.next_chunk(300, 1400), 300u);    // the rest of the message
  EXPECT_TRUE(w.consume(1400));
  EXPECT_EQ(w.next_chunk(5000, 1400), 100u);  // the credit
  EXPECT_FALSE(w.consume(101));               // refused, and nothing spent
  EXPECT_EQ(w.available(), 100u);
  EXPECT_TRUE(w.consume(100));
  EXPECT_FALSE(w.can_send(1));

  EXPECT_TRUE(w.grant(UINT32_MAX));
  w.reset();
  EXPECT_EQ(w.available(), 0u);
}

// A box larger than one frame goes out as credit-limited chunks without
// waiting per frame; the receiver reassembles it by chunk offset and its twin
// window catches nothing.
TEST(CreditWindow, ChunkedTransferUnderCredit) {
  const core::Box box{0, 50, 0, 10, 0, 10};  // 5000 bytes
  const Bytes body = pattern(5000, 3);
  CreditWindow sender, receiver_view;
  // The receiver grants its whole buffer (live for this step) at once.
  Bytes credit_payload(kCreditPayloadBytes);
  encode_credit_payload(5000, credit_payload.data());
  FrameHeader ch = control_header(MessageType::Credit, credit_payload);
  std::swap(ch.source, ch.destination);  // receiver -> sender
  FrameView cv;
  const Bytes credit_frame = encode(ch, credit_payload);
  ASSERT_EQ(decode(credit_frame, {}, &cv), DecodeStatus::Ok);
  ASSERT_TRUE(sender.grant(credit_granted(cv)));
  ASSERT_TRUE(receiver_view.grant(5000));

  Bytes wire;
  uint32_t sent = 0;
  uint32_t sequence = 100;
  while (sent < body.size()) {
    const uint32_t n =
        sender.next_chunk(static_cast<uint32_t>(body.size()) - sent, kDefaultMaxPayload);
    ASSERT_GT(n, 0u);
    ASSERT_TRUE(sender.consume(n));
    FrameHeader h = box_header(MessageType::Data, box, sent, n);
    h.sequence = sequence++;
    Bytes chunk(body.begin() + sent, body.begin() + sent + n);
    const Bytes f = encode(h, chunk);
    wire.insert(wire.end(), f.begin(), f.end());
    sent += n;
  }
  EXPECT_EQ(sender.available(), 0u);

  Bytes reassembled(body.size());
  size_t pos = 0;
  int frames = 0;
  while (pos < wire.size()) {
    FrameView v;
    ASSERT_EQ(decode_frame(wire.data() + pos, wire.size() - pos, {}, &v), DecodeStatus::Ok);
    ASSERT_TRUE(receiver_view.consume(v.header.payload_bytes));
    EXPECT_EQ(v.header.sequence, 100u + static_cast<uint32_t>(frames));
    std::memcpy(reassembled.data() + v.header.chunk_offset, v.payload, v.header.payload_bytes);
    pos += v.frame_bytes;
    ++frames;
  }
  EXPECT_EQ(frames, 4);  // 1372 + 1372 + 1372 + 884
  EXPECT_EQ(reassembled, body);
  EXPECT_EQ(wire.size(), body.size() + 4 * kFrameOverheadBytes);
}

}  // namespace
}  // namespace mcusplit::device

namespace mcusplit::device {
namespace {

// Frames under a cluster key (docs/protocol.md, "Authentication").
class TaggedFrames : public ::testing::Test {
 protected:
  TaggedFrames() {
    for (size_t i = 0; i < kClusterKeyBytes; ++i) key_[i] = static_cast<uint8_t>(i * 37 + 11);
    other_ = key_;
    other_[5] ^= 1;
    h_.type = MessageType::Data;
    h_.source = 1;
    h_.destination = 2;
    h_.plan_hash = 0x1122334455667788ull;
    h_.inference_id = 7;
    h_.sequence = 41;
    h_.tensor = 3;
    h_.box = core::Box{0, 2, 0, 3, 0, 4};
    h_.message_bytes = 24;
    h_.payload_bytes = 24;
    for (uint8_t i = 0; i < 24; ++i) payload_.push_back(static_cast<uint8_t>(200 - i));
  }
  std::vector<uint8_t> encode(const uint8_t* key, uint64_t nonce) const {
    const FrameAuth auth{key, nonce, nullptr};
    std::vector<uint8_t> f(frame_bytes_for(h_.payload_bytes, key != nullptr));
    EXPECT_EQ(encode_frame(h_, payload_.data(), f.data(), f.size(), EncoderConfig{}, &auth),
              f.size());
    return f;
  }
  static DecodeStatus decode(const std::vector<uint8_t>& f, const uint8_t* key, uint64_t nonce,
                             FrameView* view = nullptr) {
    const FrameAuth auth{key, nonce, nullptr};
    return decode_frame(f.data(), f.size(), DecoderConfig{}, view, &auth);
  }

  std::array<uint8_t, kClusterKeyBytes> key_{};
  std::array<uint8_t, kClusterKeyBytes> other_{};
  FrameHeader h_;
  std::vector<uint8_t> payload_;
};

TEST_F(TaggedFrames, ATaggedFrameCarriesItsFlagAndTagAndDecodesUnderTheSameKeyAndNonce) {
  const std::vector<uint8_t> f = encode(key_.data(), 99);
  ASSERT_EQ(f.size(), kFrameOverheadBytes + 24 + kTagBytes);
  EXPECT_EQ(load_le16(&f[kOffFlags]), kFlagTagged);
  FrameView v;
  ASSERT_EQ(decode(f, key_.data(), 99, &v), DecodeStatus::Ok);
  EXPECT_EQ(v.frame_bytes, f.size());
  EXPECT_EQ(v.header.flags, kFlagTagged);
  EXPECT_TRUE(std::equal(payload_.begin(), payload_.end(), v.payload));
  // The tag is HMAC-SHA256 of the label, the nonce and the frame up to it.
  std::vector<uint8_t> mac_input(kFrameTagLabel, kFrameTagLabel + sizeof kFrameTagLabel - 1);
  uint8_t nonce[8];
  store_le64(nonce, 99);
  mac_input.insert(mac_input.end(), nonce, nonce + 8);
  mac_input.insert(mac_input.end(), f.begin(), f.end() - kTagBytes);
  uint8_t mac[kSha256Bytes];
  hmac_sha256(key_.data(), key_.size(), mac_input.data(), mac_input.size(), mac);
  EXPECT_TRUE(std::equal(mac, mac + kTagBytes, f.end() - kTagBytes));
}

TEST_F(TaggedFrames, AnotherKeyNonceOrAnyAlteredByteIsRefused) {
  const std::vector<uint8_t> f = encode(key_.data(), 99);
  EXPECT_EQ(decode(f, other_.data(), 99), DecodeStatus::BadTag);
  // A frame of another connection (nonce) is a replay.
  EXPECT_EQ(decode(f, key_.data(), 98), DecodeStatus::BadTag);
  // Every byte of the payload, its CRC or the tag altered: refused (the
  // header's own CRC refuses its bytes first).
  for (size_t at = kHeaderBytes; at < f.size(); ++at) {
    std::vector<uint8_t> bad = f;
    bad[at] ^= 0x01;
    EXPECT_NE(decode(bad, key_.data(), 99), DecodeStatus::Ok) << at;
  }
  // A header field altered and its CRC resealed (what a forger can do): the
  // tag still refuses it.
  std::vector<uint8_t> forged = f;
  const auto put32 = [&forged](size_t at, uint32_t v) {
    for (size_t i = 0; i < 4; ++i) forged.at(at + i) = static_cast<uint8_t>(v >> (8 * i));
  };
  put32(kOffSequence, 42);
  put32(kOffHeaderCrc, crc32(forged.data(), kOffHeaderCrc));
  EXPECT_EQ(decode(forged, key_.data(), 99), DecodeStatus::BadTag);
}

TEST_F(TaggedFrames, AKeyOnOneSideOnlyIsNamed) {
  const std::vector<uint8_t> tagged = encode(key_.data(), 1);
  const std::vector<uint8_t> plain = encode(nullptr, 0);
  EXPECT_EQ(decode(tagged, nullptr, 0), DecodeStatus::UnexpectedTag);
  EXPECT_EQ(decode(plain, key_.data(), 1), DecodeStatus::MissingTag);
  EXPECT_EQ(decode(plain, nullptr, 0), DecodeStatus::Ok);
  // A caller's flag without a key promises a tag that would not be there.
  FrameHeader flagged = h_;
  flagged.flags = kFlagTagged;
  std::vector<uint8_t> out(frame_bytes_for(24, true));
  EXPECT_EQ(encode_frame(flagged, payload_.data(), out.data(), out.size()), 0u);
  // Every truncation of a tagged frame is Short, and once the header is in,
  // the whole frame's length (its tag included) is known.
  for (size_t len = 0; len < tagged.size(); ++len) {
    const std::vector<uint8_t> prefix(tagged.begin(), tagged.begin() + static_cast<long>(len));
    FrameView v;
    EXPECT_EQ(decode(prefix, key_.data(), 1, &v), DecodeStatus::Short) << len;
    EXPECT_EQ(v.frame_bytes, len < kHeaderBytes ? kHeaderBytes : tagged.size()) << len;
  }
}

}  // namespace
}  // namespace mcusplit::device
