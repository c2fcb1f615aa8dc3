// libFuzzer target for the frame decoder (docs/protocol.md). For every input:
// - decode it as is under a few configs; a decoder must never read outside
//   the input (ASan), and its status must agree with frame_bytes;
// - decode a copy whose CRCs are recomputed, so that the checks behind the
//   CRCs (types, lengths, boxes, fields) are reached by random bytes too;
// - whenever a frame decodes Ok, re-encode it and require the same bytes, and
//   require every shorter prefix to be Short.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "device/frame_codec.h"
#include "device/protocol.h"
#include "seal_frame.h"

namespace {

using namespace mcusplit::device;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_round_trip(const uint8_t* data, size_t size, const DecoderConfig& cfg,
                      const FrameView& v) {
  check(v.frame_bytes == frame_bytes_for(v.header.payload_bytes) && v.frame_bytes <= size);
  check(cfg.expected_plan_hash == 0 || v.header.plan_hash == cfg.expected_plan_hash);
  check(check_header(v.header, cfg.max_payload) == DecodeStatus::Ok);

  std::vector<uint8_t> again(v.frame_bytes);
  const size_t n =
      encode_frame(v.header, v.payload, again.data(), again.size(), EncoderConfig{cfg.max_payload});
  check(n == v.frame_bytes && std::memcmp(again.data(), data, n) == 0);

  // Every shorter prefix, from an exact-size heap copy so ASan sees over-reads.
  // Only a few lengths for long frames, to keep executions fast.
  for (size_t len = 0; len < n; len += (len < kHeaderBytes + 8 ? 1 : 97)) {
    std::vector<uint8_t> prefix(data, data + len);
    FrameView p;
    check(decode_frame(prefix.data(), len, cfg, &p) == DecodeStatus::Short);
    check(p.frame_bytes > len);
  }
}

void decode_one(const uint8_t* data, size_t size, const DecoderConfig& cfg) {
  FrameView v;
  const DecodeStatus st = decode_frame(data, size, cfg, &v);
  switch (st) {
    case DecodeStatus::Ok:
      check(v.payload == data + kHeaderBytes);
      check_round_trip(data, size, cfg, v);
      break;
    case DecodeStatus::Short:
      check(v.frame_bytes > size && v.payload == nullptr);
      break;
    default:
      check(v.payload == nullptr);
      check(decode_status_name(st)[0] != '\0');
      break;
  }
}

// An exact-size copy (so ASan still sees over-reads) with the header CRC
// recomputed and, if the claimed payload fits, the payload CRC.
std::vector<uint8_t> reseal(const uint8_t* data, size_t size) {
  std::vector<uint8_t> f(data, data + size);
  if (size >= kHeaderBytes) mcusplit::fuzzing::seal_frame(f.data(), size);
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint64_t hash = size >= kOffPlanHash + 8 ? load_le64(data + kOffPlanHash) : 0;
  const DecoderConfig configs[] = {
      DecoderConfig{},                       // unprovisioned, default max payload
      DecoderConfig{hash, 64},               // this plan, small frames
      DecoderConfig{hash ^ 1, 0xFFFFFFFFu},  // another plan, max clamped to the limit
  };
  for (const DecoderConfig& cfg : configs) decode_one(data, size, cfg);

  const std::vector<uint8_t> sealed = reseal(data, size);
  for (const DecoderConfig& cfg : configs) decode_one(sealed.data(), sealed.size(), cfg);
  return 0;
}
