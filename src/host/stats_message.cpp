#include "host/stats_message.h"

#include "device/frame_codec.h"

namespace mcusplit::host {

std::vector<uint8_t> encode_stats(const StatRecords& records) {
  std::vector<uint8_t> out(records.size() * device::kStatRecordBytes);
  size_t i = 0;
  for (const auto& [key, value] : records) {
    device::encode_stat(key, value, out.data() + i * device::kStatRecordBytes);
    ++i;
  }
  return out;
}

StatRecords decode_stats(const std::vector<uint8_t>& body) {
  StatRecords records;
  for (size_t at = 0; at + device::kStatRecordBytes <= body.size();
       at += device::kStatRecordBytes) {
    // Every StatKey is kept (readers look up the ones they know); span
    // records (host/op_spans.h, high bit set) are read by decode_span_stats.
    const uint32_t key = device::load_le32(body.data() + at);
    if ((key & 0x80000000u) != 0) continue;
    records[static_cast<device::StatKey>(key)] = device::load_le64(body.data() + at + 4);
  }
  return records;
}

}  // namespace mcusplit::host
