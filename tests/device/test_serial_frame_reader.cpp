// SerialFrameReader (device/serial_frame_reader.h): frames found in a byte
// stream with garbage around them, whatever the pieces the stream arrives in;
// payloads handed out in order with the right offsets; bad payload CRCs
// reported; rejected headers resynchronised without losing the next frame;
// and every byte accounted for (garbage, frames, pending).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "device/crc32.h"
#include "device/frame_codec.h"
#include "device/protocol.h"
#include "device/serial_frame_reader.h"

namespace mcusplit::device {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kPlanHash = 0x1234abcd5678ef01ull;

struct Frame {
  FrameHeader header;
  Bytes payload;
  Bytes bytes;  // encoded
};

Frame make_frame(const FrameHeader& h, const Bytes& payload) {
  Frame f{h, payload, Bytes(frame_bytes_for(h.payload_bytes))};
  const size_t n = encode_frame(h, payload.data(), f.bytes.data(), f.bytes.size(),
                                EncoderConfig{kMaxPayloadLimit});
  EXPECT_EQ(n, f.bytes.size());
  return f;
}

Frame ping(uint32_t sequence, const Bytes& payload) {
  FrameHeader h;
  h.type = MessageType::Ping;
  h.source = 3;
  h.destination = 0;
  h.plan_hash = kPlanHash;
  h.sequence = sequence;
  h.message_bytes = static_cast<uint32_t>(payload.size());
  h.payload_bytes = h.message_bytes;
  return make_frame(h, payload);
}

Frame stop(uint32_t sequence) {
  FrameHeader h;
  h.type = MessageType::Stop;
  h.source = 8;
  h.destination = 1;
  h.plan_hash = kPlanHash;
  h.sequence = sequence;
  return make_frame(h, {});
}

// Chunk [offset, offset + n) of a 4x5x6 box's body.
Frame data_chunk(uint32_t sequence, uint32_t offset, uint32_t n, uint8_t seed) {
  FrameHeader h;
  h.type = MessageType::Data;
  h.source = 1;
  h.destination = 2;
  h.plan_hash = kPlanHash;
  h.inference_id = 11;
  h.sequence = sequence;
  h.tensor = 7;
  h.box = core::Box{0, 4, 1, 6, 2, 8};
  h.message_bytes = static_cast<uint32_t>(h.box.volume());
  h.chunk_offset = offset;
  h.payload_bytes = n;
  Bytes payload(n);
  for (uint32_t i = 0; i < n; ++i) payload[i] = static_cast<uint8_t>(seed + 7 * i);
  return make_frame(h, payload);
}

Bytes text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

void append(Bytes* out, const Bytes& b) {
  out->insert(out->end(), b.begin(), b.end());
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

struct Received {
  FrameHeader header;
  Bytes payload;
  bool crc_ok = false;
  Bytes raw;  // at the frame's end: its header, CRC and tag bytes as the reader kept them
};

// Drives a reader the way a receiver does and records what it delivers,
// checking the event protocol on the way (payload offsets contiguous, events
// only inside or outside a frame as they should be).
class Collector {
 public:
  explicit Collector(const DecoderConfig& cfg = DecoderConfig{}) : reader_(cfg) {}

  void feed(const Bytes& b) { feed(b.data(), b.size()); }
  void feed(const uint8_t* p, size_t n) {
    while (n > 0) {
      ReaderEvent ev;
      const size_t used = reader_.feed(p, n, &ev);
      ASSERT_GT(used, 0u);
      ASSERT_LE(used, n);
      if (ev.kind == ReaderEventKind::Payload) {
        // A payload piece is a run of the caller's own bytes.
        ASSERT_GE(ev.data, p);
        ASSERT_EQ(ev.data + ev.size, p + used);
      }
      p += used;
      n -= used;
      handle(ev);
    }
  }
  void push_each(const Bytes& b) {
    for (uint8_t byte : b) handle(reader_.push(byte));
  }

  const std::vector<Received>& frames() const { return frames_; }
  const std::vector<ReaderEvent>& rejections() const { return rejections_; }
  const SerialFrameReader& reader() const { return reader_; }
  SerialFrameReader& reader() { return reader_; }

  // Every byte fed is garbage, part of a finished frame, or pending.
  void expect_accounted() const {
    const SerialReaderStats& s = reader_.stats();
    EXPECT_EQ(s.bytes_fed,
              s.garbage_bytes + s.frame_bytes_ok + s.frame_bytes_other + reader_.pending_bytes());
  }

 private:
  void handle(const ReaderEvent& ev) {
    switch (ev.kind) {
      case ReaderEventKind::None:
        break;
      case ReaderEventKind::Header:
        ASSERT_FALSE(open_);
        open_ = true;
        current_ = Received{reader_.header(), {}, false, {}};
        EXPECT_EQ(std::memcmp(reader_.header_bytes(), kFrameMagic, 4), 0);
        EXPECT_TRUE(reader_.in_frame());
        break;
      case ReaderEventKind::Payload:
        ASSERT_TRUE(open_);
        ASSERT_GT(ev.size, 0u);
        ASSERT_EQ(ev.offset, current_.payload.size());
        current_.payload.insert(current_.payload.end(), ev.data, ev.data + ev.size);
        ASSERT_LE(current_.payload.size(), current_.header.payload_bytes);
        break;
      case ReaderEventKind::FrameOk:
      case ReaderEventKind::FrameBadCrc:
        ASSERT_TRUE(open_);
        ASSERT_EQ(current_.payload.size(), current_.header.payload_bytes);
        current_.crc_ok = ev.kind == ReaderEventKind::FrameOk;
        current_.raw.assign(reader_.header_bytes(), reader_.header_bytes() + kHeaderBytes);
        current_.raw.insert(current_.raw.end(), reader_.crc_bytes(),
                            reader_.crc_bytes() + kCrcBytes);
        if ((current_.header.flags & kFlagTagged) != 0) {
          current_.raw.insert(current_.raw.end(), reader_.tag(), reader_.tag() + kTagBytes);
        }
        frames_.push_back(current_);
        open_ = false;
        EXPECT_FALSE(reader_.in_frame());
        break;
      case ReaderEventKind::HeaderRejected:
        ASSERT_FALSE(open_);
        EXPECT_NE(ev.status, DecodeStatus::Ok);
        rejections_.push_back(ev);
        break;
    }
  }

  SerialFrameReader reader_;
  std::vector<Received> frames_;
  std::vector<ReaderEvent> rejections_;
  bool open_ = false;
  Received current_;
};

void expect_frames(const std::vector<Received>& got, const std::vector<Frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    expect_same_header(got[i].header, want[i].header);
    EXPECT_EQ(got[i].payload, want[i].payload);
    EXPECT_TRUE(got[i].crc_ok);
  }
}

TEST(SerialFrameReader, OneFrameGivesHeaderPayloadAndOk) {
  const Frame f = ping(0, text("12345678"));
  SerialFrameReader reader;
  ReaderEvent ev;
  size_t used = reader.feed(f.bytes.data(), f.bytes.size(), &ev);
  EXPECT_EQ(used, kHeaderBytes);
  EXPECT_EQ(ev.kind, ReaderEventKind::Header);
  expect_same_header(reader.header(), f.header);
  EXPECT_EQ(std::memcmp(reader.header_bytes(), f.bytes.data(), kHeaderBytes), 0);

  size_t at = used;
  used = reader.feed(f.bytes.data() + at, f.bytes.size() - at, &ev);
  EXPECT_EQ(ev.kind, ReaderEventKind::Payload);
  EXPECT_EQ(used, 8u);
  EXPECT_EQ(ev.data, f.bytes.data() + at);
  EXPECT_EQ(ev.size, 8u);
  EXPECT_EQ(ev.offset, 0u);

  at += used;
  used = reader.feed(f.bytes.data() + at, f.bytes.size() - at, &ev);
  EXPECT_EQ(ev.kind, ReaderEventKind::FrameOk);
  EXPECT_EQ(used, kCrcBytes);
  EXPECT_EQ(reader.stats().frames_ok, 1u);
  EXPECT_EQ(reader.stats().frame_bytes_ok, f.bytes.size());
  EXPECT_EQ(reader.stats().garbage_bytes, 0u);
  EXPECT_EQ(reader.pending_bytes(), 0u);

  // Nothing left: feeding nothing is no event.
  EXPECT_EQ(reader.feed(nullptr, 0, &ev), 0u);
  EXPECT_EQ(ev.kind, ReaderEventKind::None);
}

TEST(SerialFrameReader, EmptyPayloadEndsAfterItsCrc) {
  const Frame f = stop(4);
  ASSERT_EQ(f.bytes.size(), kFrameOverheadBytes);
  SerialFrameReader reader;
  ReaderEvent ev;
  EXPECT_EQ(reader.feed(f.bytes.data(), f.bytes.size(), &ev), kHeaderBytes);
  EXPECT_EQ(ev.kind, ReaderEventKind::Header);
  EXPECT_TRUE(reader.in_frame());
  EXPECT_EQ(reader.feed(f.bytes.data() + kHeaderBytes, 3, &ev), 3u);
  EXPECT_EQ(ev.kind, ReaderEventKind::None);
  EXPECT_EQ(reader.pending_bytes(), kHeaderBytes + 3);
  EXPECT_EQ(reader.feed(f.bytes.data() + kHeaderBytes + 3, 1, &ev), 1u);
  EXPECT_EQ(ev.kind, ReaderEventKind::FrameOk);
}

TEST(SerialFrameReader, GarbageBeforeAndBetweenFramesIsCountedAndDropped) {
  const std::vector<Frame> want = {ping(0, text("abc")), data_chunk(1, 0, 50, 9), stop(2)};
  const Bytes banner = text("mcusplit-fw echo: ram=262144\r\n");
  const Bytes noise = {0x00, 0xff, 'S', 'P', 'F', 0x4d, 0x53, 0x00, 0x13};  // "MS" then not P
  Bytes stream = banner;
  append(&stream, want[0].bytes);
  append(&stream, noise);
  append(&stream, want[1].bytes);
  append(&stream, noise);
  append(&stream, noise);
  append(&stream, want[2].bytes);

  Collector c;
  c.feed(stream);
  expect_frames(c.frames(), want);
  EXPECT_TRUE(c.rejections().empty());
  EXPECT_EQ(c.reader().stats().garbage_bytes, banner.size() + 3 * noise.size());
  EXPECT_EQ(c.reader().pending_bytes(), 0u);
  c.expect_accounted();
}

// A magic prefix at the end of the garbage, right before the real magic.
TEST(SerialFrameReader, PartialMagicRightBeforeARealFrame) {
  for (const char* prefix : {"M", "MS", "MSP", "MSPM", "MMSP"}) {
    SCOPED_TRACE(prefix);
    const Frame f = ping(0, text("x"));
    Bytes stream = text(prefix);
    append(&stream, f.bytes);
    Collector c;
    c.feed(stream);
    expect_frames(c.frames(), {f});
    EXPECT_EQ(c.reader().stats().garbage_bytes, std::strlen(prefix));
    c.expect_accounted();
  }
}

// Garbage holding "MSPF" and part of a header: the reader takes it for a
// header candidate, which swallows the start of the real frame; when the
// candidate's CRC fails it scans again from the byte after the false magic and
// finds the real frame inside what it had buffered.
TEST(SerialFrameReader, FakeMagicWithPartialHeaderDoesNotLoseTheNextFrame) {
  const Frame real = data_chunk(0, 10, 20, 3);
  for (size_t fake_len : {4u, 5u, 10u, 40u, 71u, 72u, 73u, 150u}) {
    SCOPED_TRACE("fake candidate of " + std::to_string(fake_len) + " bytes");
    Bytes fake = text("MSPF\x03");  // magic and version: only the header CRC can reject it
    fake.resize(std::min<size_t>(fake.size(), fake_len));
    for (size_t i = fake.size(); i < fake_len; ++i)
      fake.push_back(static_cast<uint8_t>(i * 13 + 1));
    Bytes stream = text("noise");
    append(&stream, fake);
    append(&stream, real.bytes);
    append(&stream, real.bytes);

    Collector c;
    c.feed(stream);
    expect_frames(c.frames(), {real, real});
    // The fake candidate is rejected once it has 72 bytes: its header CRC
    // fails, or its version byte when that is the real frame's "M".
    ASSERT_EQ(c.rejections().size(), 1u);
    EXPECT_EQ(c.rejections()[0].status,
              fake_len > 4 ? DecodeStatus::BadCrc : DecodeStatus::BadVersion);
    EXPECT_FALSE(c.rejections()[0].header_sound);
    EXPECT_EQ(c.reader().stats().garbage_bytes, 5 + fake_len);
    c.expect_accounted();
  }
}

// Two fake candidates nested in each other, then a real frame.
TEST(SerialFrameReader, NestedFakeMagicsAreAllRescanned) {
  const Frame real = ping(5, text("payload"));
  Bytes stream = text("MSPF\x03\x09");
  append(&stream, text("MSPF"));
  append(&stream, text("MSP"));
  append(&stream, text("MSPF\x03"));
  append(&stream, real.bytes);
  Collector c;
  c.feed(stream);
  expect_frames(c.frames(), {real});
  EXPECT_EQ(c.reader().stats().garbage_bytes, 6u + 4 + 3 + 5);
  // Each false magic became a candidate that failed once it had 72 bytes.
  EXPECT_EQ(c.rejections().size(), 3u);
  c.expect_accounted();
}

std::vector<Frame> mixed_frames() {
  return {ping(0, text("12345678")), data_chunk(1, 0, 120, 1), stop(2), ping(3, {})};
}

// A stream with garbage around and between several frames, including frames
// with empty payloads.
Bytes mixed_stream(const std::vector<Frame>& frames, uint64_t* garbage) {
  const Bytes noise = text("MSPF?\x01MS\xff");
  Bytes stream;
  *garbage = 0;
  for (const Frame& f : frames) {
    append(&stream, noise);
    *garbage += noise.size();
    append(&stream, f.bytes);
  }
  return stream;
}

TEST(SerialFrameReader, EveryByteOneAtATime) {
  const std::vector<Frame> want = mixed_frames();
  uint64_t garbage = 0;
  const Bytes stream = mixed_stream(want, &garbage);

  Collector pushed;
  pushed.push_each(stream);
  expect_frames(pushed.frames(), want);
  EXPECT_EQ(pushed.reader().stats().garbage_bytes, garbage);
  pushed.expect_accounted();

  Collector fed;
  for (uint8_t b : stream) fed.feed(&b, 1);
  expect_frames(fed.frames(), want);
  EXPECT_EQ(fed.reader().stats().garbage_bytes, garbage);
  // One Payload event per payload byte.
  EXPECT_EQ(fed.reader().stats().bytes_fed, stream.size());
}

TEST(SerialFrameReader, FramesSplitAtEveryPosition) {
  const std::vector<Frame> want = mixed_frames();
  uint64_t garbage = 0;
  const Bytes stream = mixed_stream(want, &garbage);

  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    Collector c;
    c.feed(stream.data(), cut);
    c.feed(stream.data() + cut, stream.size() - cut);
    expect_frames(c.frames(), want);
    EXPECT_EQ(c.reader().stats().garbage_bytes, garbage);
    c.expect_accounted();
    if (testing::Test::HasFailure()) return;
  }
  // Every pair of cuts over the first two frames and their garbage.
  const size_t span = 2 * 9 + want[0].bytes.size() + want[1].bytes.size();
  for (size_t a = 0; a <= span; ++a) {
    for (size_t b = a; b <= span; ++b) {
      Collector c;
      c.feed(stream.data(), a);
      c.feed(stream.data() + a, b - a);
      c.feed(stream.data() + b, stream.size() - b);
      expect_frames(c.frames(), want);
      if (testing::Test::HasFailure()) {
        ADD_FAILURE() << "cuts at " << a << " and " << b;
        return;
      }
    }
  }
}

TEST(SerialFrameReader, CorruptedPayloadCrcIsReportedAndTheNextFrameIsKept) {
  const Frame good = data_chunk(0, 0, 64, 5);
  const Frame next = ping(1, text("after"));
  // Flip one payload byte, then (separately) one byte of the payload CRC.
  for (size_t pos : {kHeaderBytes, kHeaderBytes + 63, kHeaderBytes + 64, kHeaderBytes + 67}) {
    SCOPED_TRACE("corrupt byte " + std::to_string(pos));
    Bytes bad = good.bytes;
    bad[pos] ^= 0x10;
    Bytes stream = bad;
    append(&stream, next.bytes);
    Collector c;
    c.feed(stream);
    ASSERT_EQ(c.frames().size(), 2u);
    EXPECT_FALSE(c.frames()[0].crc_ok);
    expect_same_header(c.frames()[0].header, good.header);
    EXPECT_TRUE(c.frames()[1].crc_ok);
    expect_same_header(c.frames()[1].header, next.header);
    EXPECT_EQ(c.frames()[1].payload, next.payload);
    EXPECT_EQ(c.reader().stats().frames_bad_crc, 1u);
    EXPECT_EQ(c.reader().stats().frames_ok, 1u);
    EXPECT_EQ(c.reader().stats().garbage_bytes, 0u);
    c.expect_accounted();
  }
}

// Any single corrupted header byte loses that frame (its header CRC fails, or
// the magic is gone) but never the next one, even when the corrupted frame's
// payload is scanned as garbage.
TEST(SerialFrameReader, HeaderCorruptionResyncsWithoutLosingTheNextFrame) {
  const Frame first = data_chunk(0, 0, 100, 2);
  const Frame second = data_chunk(1, 100, 20, 4);
  for (size_t pos = 0; pos < kHeaderBytes; ++pos) {
    const uint8_t masks[] = {0x01, 0x80, 0xff};
    for (uint8_t mask : masks) {
      SCOPED_TRACE("header byte " + std::to_string(pos) + " mask " + std::to_string(mask));
      Bytes stream = first.bytes;
      stream[pos] ^= mask;
      append(&stream, second.bytes);
      Collector c;
      c.feed(stream);
      expect_frames(c.frames(), {second});
      // The whole corrupted frame became garbage.
      EXPECT_EQ(c.reader().stats().garbage_bytes, first.bytes.size());
      EXPECT_LE(c.rejections().size(), 1u);
      c.expect_accounted();
      if (testing::Test::HasFailure()) return;
    }
  }
}

// A frame with a sound header that the receiver refuses (another plan) is
// skipped whole: a frame hidden in its payload is not delivered.
TEST(SerialFrameReader, SoundButRejectedHeaderSkipsTheWholeFrame) {
  const Frame inner = ping(9, text("inner"));
  FrameHeader h;
  h.type = MessageType::Ping;
  h.source = 4;
  h.destination = 0;
  h.plan_hash = kPlanHash ^ 1;  // another plan
  h.message_bytes = static_cast<uint32_t>(inner.bytes.size());
  h.payload_bytes = h.message_bytes;
  const Frame outer = make_frame(h, inner.bytes);
  const Frame next = ping(10, text("next"));

  Bytes stream = outer.bytes;
  append(&stream, next.bytes);
  DecoderConfig cfg;
  cfg.expected_plan_hash = kPlanHash;
  Collector c(cfg);
  c.feed(stream);
  expect_frames(c.frames(), {next});
  ASSERT_EQ(c.rejections().size(), 1u);
  EXPECT_EQ(c.rejections()[0].status, DecodeStatus::WrongPlanHash);
  EXPECT_TRUE(c.rejections()[0].header_sound);
  EXPECT_TRUE(c.rejections()[0].frame_skipped);
  EXPECT_EQ(c.reader().stats().frames_skipped, 1u);
  EXPECT_EQ(c.reader().stats().frame_bytes_other, outer.bytes.size());
  EXPECT_EQ(c.reader().stats().garbage_bytes, 0u);
  c.expect_accounted();

  // Without a plan hash to check, both the outer frame and (only as its
  // payload) the inner one are delivered.
  Collector any;
  any.feed(stream);
  ASSERT_EQ(any.frames().size(), 2u);
  EXPECT_EQ(any.frames()[0].payload, inner.bytes);
}

// A payload over the configured max cannot be skipped (its length is not
// trusted): the reader rescans it as garbage and still finds the next frame.
TEST(SerialFrameReader, PayloadOverTheMaxIsRescannedAsGarbage) {
  const Frame big = data_chunk(0, 0, 100, 6);
  const Frame next = ping(1, text("ok"));
  Bytes stream = big.bytes;
  append(&stream, next.bytes);
  DecoderConfig cfg;
  cfg.max_payload = 64;
  Collector c(cfg);
  c.feed(stream);
  expect_frames(c.frames(), {next});
  ASSERT_EQ(c.rejections().size(), 1u);
  EXPECT_EQ(c.rejections()[0].status, DecodeStatus::BadLength);
  EXPECT_TRUE(c.rejections()[0].header_sound);
  EXPECT_FALSE(c.rejections()[0].frame_skipped);
  expect_same_header(c.reader().header(), next.header);
  EXPECT_EQ(c.reader().stats().garbage_bytes, big.bytes.size());
  c.expect_accounted();

  // After set_config with a larger max the same frame passes.
  cfg.max_payload = 100;
  c.reader().set_config(cfg);
  c.feed(big.bytes);
  EXPECT_EQ(c.frames().size(), 2u);
  EXPECT_EQ(c.frames()[1].payload, big.payload);
}

TEST(SerialFrameReader, ResetDropsAPartialFrameAsGarbage) {
  const Frame f = data_chunk(0, 0, 30, 1);
  Collector c;
  c.feed(f.bytes.data(), kHeaderBytes + 10);
  EXPECT_TRUE(c.reader().in_frame());
  EXPECT_EQ(c.reader().pending_bytes(), kHeaderBytes + 10);
  c.reader().reset();
  EXPECT_FALSE(c.reader().in_frame());
  EXPECT_EQ(c.reader().stats().garbage_bytes, kHeaderBytes + 10);
  c.expect_accounted();
}

// Random frames (random types, payloads and sizes) with random garbage
// between them (noise, false magics with partial headers, truncated real
// headers, frames with a corrupted payload), fed in random pieces: every good
// frame comes out exactly, in order; every corrupted one as FrameBadCrc; and
// the garbage count is exactly the garbage put in.
TEST(SerialFrameReader, RandomGarbageInterleavedWithRandomFrames) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto uniform = [&rng](uint32_t lo, uint32_t hi) {
      return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
    };
    auto random_bytes = [&](size_t n) {
      Bytes b(n);
      for (uint8_t& x : b) x = static_cast<uint8_t>(uniform(0, 255));
      return b;
    };
    auto random_frame = [&](uint32_t seq) {
      switch (uniform(0, 3)) {
        case 0:
          return ping(seq, random_bytes(uniform(0, 300)));
        case 1: {
          const uint32_t off = uniform(0, 119);
          return data_chunk(seq, off, uniform(1, 120 - off), static_cast<uint8_t>(seq));
        }
        case 2:
          return stop(seq);
        default: {
          FrameHeader h;
          h.type = MessageType::Error;
          h.source = 1;
          h.destination = 8;
          h.sequence = seq;
          uint8_t payload[40];
          const size_t n = encode_error_payload(ErrorCode::RuntimeFailed, "kernel failed", payload,
                                                sizeof(payload));
          h.message_bytes = static_cast<uint32_t>(n);
          h.payload_bytes = h.message_bytes;
          return make_frame(h, Bytes(payload, payload + n));
        }
      }
    };

    Bytes stream;
    std::vector<Frame> sent;   // in stream order
    std::vector<bool> intact;  // false: payload corrupted
    uint64_t garbage = 0;
    for (uint32_t i = 0; i < 150; ++i) {
      Bytes junk;
      switch (uniform(0, 4)) {
        case 0:
          break;
        case 1:
          junk = random_bytes(uniform(1, 200));
          break;
        case 2:  // a false magic and part of a header
          junk = text("MSPF");
          append(&junk, random_bytes(uniform(0, 100)));
          break;
        case 3: {  // the start of a real header, cut short
          const Frame cut = random_frame(999);
          junk.assign(cut.bytes.begin(), cut.bytes.begin() + uniform(1, kHeaderBytes - 1));
          break;
        }
        default:  // a magic prefix
          junk = text(std::string("MSPF").substr(0, uniform(1, 3)));
          break;
      }
      append(&stream, junk);
      garbage += junk.size();

      Frame f = random_frame(i);
      const bool corrupt = f.header.payload_bytes > 0 && uniform(0, 9) == 0;
      if (corrupt) f.bytes[kHeaderBytes + uniform(0, f.header.payload_bytes - 1)] ^= 0x04;
      append(&stream, f.bytes);
      sent.push_back(f);
      intact.push_back(!corrupt);
    }

    Collector c;
    size_t at = 0;
    while (at < stream.size()) {
      const size_t n = std::min<size_t>(stream.size() - at, uniform(1, 600));
      c.feed(stream.data() + at, n);
      at += n;
    }
    ASSERT_EQ(c.frames().size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
      SCOPED_TRACE("frame " + std::to_string(i));
      expect_same_header(c.frames()[i].header, sent[i].header);
      EXPECT_EQ(c.frames()[i].crc_ok, intact[i]);
      if (intact[i]) {
        EXPECT_EQ(c.frames()[i].payload, sent[i].payload);
      }
    }
    EXPECT_EQ(c.reader().stats().garbage_bytes, garbage);
    EXPECT_EQ(c.reader().pending_bytes(), 0u);
    c.expect_accounted();
    if (testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace mcusplit::device

namespace mcusplit::device {
namespace {

// A tagged frame (a link with a cluster key) is read whole: at its end the
// reader holds its header, CRC and tag for the receiver to check the tag
// with its key; untagged frames around it read as ever, fed whole or a byte
// at a time.
TEST(SerialFrameReader, ATaggedFrameIsReadWholeWithItsTagForTheReceiverToCheck) {
  uint8_t key[kClusterKeyBytes] = {1, 2, 3};
  FrameHeader h;
  h.type = MessageType::Ping;
  h.source = 3;
  h.destination = 0;
  h.plan_hash = kPlanHash;
  h.message_bytes = 5;
  h.payload_bytes = 5;
  const uint8_t payload[5] = {'h', 'e', 'l', 'l', 'o'};
  Bytes tagged(frame_bytes_for(5, true));
  const FrameAuth auth{key, 0, nullptr};
  ASSERT_EQ(encode_frame(h, payload, tagged.data(), tagged.size(), EncoderConfig{}, &auth),
            tagged.size());
  const Frame next = ping(1, text("after"));
  Bytes stream = text("noise");
  append(&stream, tagged);
  append(&stream, next.bytes);
  for (const bool bytewise : {false, true}) {
    SCOPED_TRACE(bytewise ? "a byte at a time" : "whole");
    Collector c;
    if (bytewise) {
      c.push_each(stream);
    } else {
      c.feed(stream);
    }
    ASSERT_EQ(c.frames().size(), 2u);
    const Received& got = c.frames()[0];
    EXPECT_TRUE(got.crc_ok);
    EXPECT_EQ(got.payload, Bytes(payload, payload + 5));
    // What the receiver checks the tag over, and the tag, as sent.
    Bytes expected(tagged.begin(), tagged.begin() + kHeaderBytes);
    expected.insert(expected.end(), tagged.end() - kTagBytes - kCrcBytes, tagged.end());
    EXPECT_EQ(got.raw, expected);
    Bytes checked(got.raw.begin(), got.raw.begin() + kHeaderBytes);
    append(&checked, got.payload);
    checked.insert(checked.end(), got.raw.end() - kTagBytes - kCrcBytes, got.raw.end());
    FrameView view;
    EXPECT_EQ(decode_frame(checked.data(), checked.size(), DecoderConfig{}, &view, &auth),
              DecodeStatus::Ok);
    expect_same_header(c.frames()[1].header, next.header);
    EXPECT_TRUE(c.rejections().empty());
    EXPECT_EQ(c.reader().stats().garbage_bytes, 5u);
    EXPECT_EQ(c.reader().stats().frame_bytes_ok, tagged.size() + next.bytes.size());
    c.expect_accounted();
  }
}

}  // namespace
}  // namespace mcusplit::device
