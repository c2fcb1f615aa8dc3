// libFuzzer target for the .mq reader (quant/mq_format, docs/mq_format.md).
// For every input:
// - parse it as is, and a copy whose header is resealed (magic, version,
//   payload length and CRC-32 made right), so that random bytes reach the
//   payload reader and validate_qgraph behind the checksum;
// - a parse either gives a graph or throws mcusplit::Error; anything else (a
//   crash, an out-of-bounds read under ASan, another exception) is a bug;
// - whenever bytes parse, serialize_mq writes the very same bytes back: the
//   format has one encoding per graph, so a reader that accepts another
//   (a flag byte of 2, say) lets two files mean one model.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/error.h"
#include "quant/mq_format.h"

namespace {

using namespace mcusplit::quant;

void check(bool ok) {
  if (!ok) std::abort();
}

void store_le32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
}

// Magic, version and payload length forced, CRC-32 recomputed.
std::string reseal(std::string b) {
  if (b.size() < kMqHeaderBytes) return b;
  std::memcpy(b.data(), kMqMagic, sizeof kMqMagic);
  store_le32(b, 8, kMqFormatVersion);
  const uint64_t length = b.size() - kMqHeaderBytes;
  store_le32(b, 16, static_cast<uint32_t>(length));
  store_le32(b, 20, static_cast<uint32_t>(length >> 32));
  const auto* payload = reinterpret_cast<const Bytef*>(b.data() + kMqHeaderBytes);
  store_le32(
      b, 12,
      static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), payload, static_cast<uInt>(length))));
  return b;
}

void parse_one(const std::string& bytes) {
  QGraph graph;
  try {
    graph = parse_mq(bytes, "fuzz.mq");
  } catch (const mcusplit::Error&) {
    return;  // refused with a message: fine
  }
  check(serialize_mq(graph) == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  parse_one(bytes);
  parse_one(reseal(bytes));
  return 0;
}
