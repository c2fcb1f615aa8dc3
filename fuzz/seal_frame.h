// For the frame fuzz targets: a frame whose CRCs match its bytes, so that
// random bytes reach the checks behind the CRCs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "device/crc32.h"
#include "device/protocol.h"

namespace mcusplit::fuzzing {

// Recomputes the header CRC of the header at `f` (at least kHeaderBytes of
// the `available` bytes from `f`) and, if its claimed payload and payload
// CRC fit in `available`, the payload CRC.
inline void seal_frame(uint8_t* f, size_t available) {
  using namespace mcusplit::device;
  store_le32(f + kOffHeaderCrc, crc32(f, kOffHeaderCrc));
  const uint32_t n = load_le32(f + kOffPayloadBytes);
  if (available >= kFrameOverheadBytes && n <= available - kFrameOverheadBytes) {
    store_le32(f + kHeaderBytes + n, crc32(f + kHeaderBytes, n));
  }
}

}  // namespace mcusplit::fuzzing
