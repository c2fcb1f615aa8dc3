#include "device/crc32.h"

namespace mcusplit::device {
namespace {

struct Crc32Table {
  uint32_t entry[256];
};

constexpr Crc32Table make_table() {
  Crc32Table t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    t.entry[i] = c;
  }
  return t;
}

// constexpr so it lands in read-only data, not in RAM built at start-up.
constexpr Crc32Table kTable = make_table();

}  // namespace

uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size) {
  uint32_t c = ~crc;
  for (size_t i = 0; i < size; ++i) c = kTable.entry[(c ^ data[i]) & 0xFFu] ^ (c >> 8);
  return ~c;
}

}  // namespace mcusplit::device
