// libFuzzer target for the streaming frame reader
// (device/serial_frame_reader.h, docs/protocol.md). The input is a byte
// stream, garbage and frames mixed, as a serial line delivers it. For the
// stream as is and for a copy in which every "MSPF" gets a correct header
// CRC (and payload CRC where the payload fits), so that random bytes make
// real frames among the garbage:
// - read it three ways: feed() with everything at once, feed() in small
//   uneven pieces, and push() byte by byte; the reader keeps no more than a
//   header, so all three must see the same frames, payloads and rejections
//   and end with the same counters;
// - every Payload event continues its frame where the last one stopped, and
//   the payloads handed out add up to the header's payload_bytes;
// - every FrameOk frame, put back together from the header bytes, the
//   payload events, its CRC and (a tagged frame) the tag the reader kept,
//   decodes with decode_frame to the same header: Ok, or for a tagged frame
//   UnexpectedTag (whole and sound; only a key could check the tag);
// - the counters account for every byte fed (garbage + frames + pending).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "device/crc32.h"
#include "device/frame_codec.h"
#include "device/protocol.h"
#include "device/serial_frame_reader.h"
#include "seal_frame.h"

namespace {

using namespace mcusplit::device;

void check(bool ok) {
  if (!ok) std::abort();
}

bool same_header(const FrameHeader& a, const FrameHeader& b) {
  return a.type == b.type && a.flags == b.flags && a.source == b.source &&
         a.destination == b.destination && a.plan_hash == b.plan_hash &&
         a.inference_id == b.inference_id && a.sequence == b.sequence && a.tensor == b.tensor &&
         a.box == b.box && a.message_bytes == b.message_bytes && a.chunk_offset == b.chunk_offset &&
         a.payload_bytes == b.payload_bytes;
}

// What one reading of the stream saw: the events other than Payload, and
// every frame's header bytes and payload, as one byte log to compare.
struct Transcript {
  std::vector<uint8_t> log;
  std::vector<uint8_t> header;   // the current frame's raw header
  std::vector<uint8_t> payload;  // its payload so far
  SerialReaderStats stats;

  void note(const SerialFrameReader& reader, const ReaderEvent& e, const DecoderConfig& cfg) {
    switch (e.kind) {
      case ReaderEventKind::None:
        return;
      case ReaderEventKind::Header:
        header.assign(reader.header_bytes(), reader.header_bytes() + kHeaderBytes);
        payload.clear();
        break;
      case ReaderEventKind::Payload:
        check(e.size > 0 && e.offset == payload.size());
        check(uint64_t{e.offset} + e.size <= reader.header().payload_bytes);
        payload.insert(payload.end(), e.data, e.data + e.size);
        return;  // how payload arrives depends on the pieces: not logged
      case ReaderEventKind::FrameOk:
        check(payload.size() == reader.header().payload_bytes);
        check_frame(reader, cfg);
        break;
      case ReaderEventKind::FrameBadCrc:
        check(payload.size() == reader.header().payload_bytes);
        break;
      case ReaderEventKind::HeaderRejected:
        check(e.status != DecodeStatus::Ok && e.status != DecodeStatus::Short);
        check(!e.frame_skipped || e.header_sound);
        break;
    }
    log.push_back(static_cast<uint8_t>(e.kind));
    log.push_back(static_cast<uint8_t>(e.status));
    log.push_back(static_cast<uint8_t>(e.header_sound * 2 + e.frame_skipped));
    if (e.kind == ReaderEventKind::FrameOk || e.kind == ReaderEventKind::FrameBadCrc) {
      log.insert(log.end(), header.begin(), header.end());
      log.insert(log.end(), payload.begin(), payload.end());
    }
  }

  // The frame put back together decodes to what the reader reported.
  void check_frame(const SerialFrameReader& reader, const DecoderConfig& cfg) const {
    const FrameHeader& h = reader.header();
    std::vector<uint8_t> frame(header);
    frame.insert(frame.end(), payload.begin(), payload.end());
    uint8_t crc[kCrcBytes];
    store_le32(crc, crc32(payload.data(), payload.size()));
    check(std::memcmp(crc, reader.crc_bytes(), kCrcBytes) == 0);
    frame.insert(frame.end(), crc, crc + kCrcBytes);
    const bool tagged = (h.flags & kFlagTagged) != 0;
    if (tagged) frame.insert(frame.end(), reader.tag(), reader.tag() + kTagBytes);
    FrameView v;
    const DecodeStatus s = decode_frame(frame.data(), frame.size(), cfg, &v);
    check(s == (tagged ? DecodeStatus::UnexpectedTag : DecodeStatus::Ok));
    check(v.frame_bytes == frame.size() && same_header(v.header, h));
  }

  void finish(const SerialFrameReader& reader, size_t fed) {
    stats = reader.stats();
    check(stats.bytes_fed == fed);
    check(stats.bytes_fed == stats.garbage_bytes + stats.frame_bytes_ok + stats.frame_bytes_other +
                                 reader.pending_bytes());
  }
};

bool same_stats(const SerialReaderStats& a, const SerialReaderStats& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

Transcript read_all_at_once(const std::vector<uint8_t>& s, const DecoderConfig& cfg) {
  Transcript t;
  SerialFrameReader reader(cfg);
  size_t at = 0;
  while (at < s.size()) {
    ReaderEvent e;
    const size_t used = reader.feed(s.data() + at, s.size() - at, &e);
    check(used >= 1 && used <= s.size() - at);
    at += used;
    t.note(reader, e, cfg);
  }
  t.finish(reader, s.size());
  return t;
}

// Pieces of 1 to 13 bytes, their lengths taken from the stream itself.
Transcript read_in_pieces(const std::vector<uint8_t>& s, const DecoderConfig& cfg) {
  Transcript t;
  SerialFrameReader reader(cfg);
  size_t at = 0;
  while (at < s.size()) {
    // An exact-size copy of the piece, so ASan sees a read past it.
    const size_t n = std::min<size_t>(1 + s[at] % 13, s.size() - at);
    const std::vector<uint8_t> piece(s.begin() + static_cast<ptrdiff_t>(at),
                                     s.begin() + static_cast<ptrdiff_t>(at + n));
    size_t used = 0;
    while (used < n) {
      ReaderEvent e;
      const size_t k = reader.feed(piece.data() + used, n - used, &e);
      check(k >= 1);
      used += k;
      t.note(reader, e, cfg);
    }
    at += n;
  }
  t.finish(reader, s.size());
  return t;
}

Transcript read_byte_by_byte(const std::vector<uint8_t>& s, const DecoderConfig& cfg) {
  Transcript t;
  SerialFrameReader reader(cfg);
  for (uint8_t byte : s) t.note(reader, reader.push(byte), cfg);
  t.finish(reader, s.size());
  return t;
}

void read_three_ways(const std::vector<uint8_t>& s, const DecoderConfig& cfg) {
  const Transcript whole = read_all_at_once(s, cfg);
  const Transcript pieces = read_in_pieces(s, cfg);
  const Transcript bytes = read_byte_by_byte(s, cfg);
  check(whole.log == pieces.log && whole.log == bytes.log);
  check(same_stats(whole.stats, pieces.stats) && same_stats(whole.stats, bytes.stats));
}

// A copy in which every header candidate gets its CRC, and its payload CRC
// where the payload fits in the stream.
std::vector<uint8_t> seal_frames(const uint8_t* data, size_t size) {
  std::vector<uint8_t> s(data, data + size);
  for (size_t at = 0; at + kHeaderBytes <= size; ++at) {
    if (std::memcmp(s.data() + at, kFrameMagic, sizeof kFrameMagic) != 0) continue;
    mcusplit::fuzzing::seal_frame(s.data() + at, size - at);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint64_t hash = size >= kOffPlanHash + 8 ? load_le64(data + kOffPlanHash) : 0;
  const DecoderConfig configs[] = {
      DecoderConfig{},          // unprovisioned, default max payload
      DecoderConfig{hash, 64},  // provisioned for the first frame's plan, small frames
  };
  const std::vector<uint8_t> raw(data, data + size);
  const std::vector<uint8_t> sealed = seal_frames(data, size);
  for (const DecoderConfig& cfg : configs) {
    read_three_ways(raw, cfg);
    read_three_ways(sealed, cfg);
  }
  return 0;
}
