// CRC-32 as in IEEE 802.3, zlib and PNG: reflected polynomial 0xEDB88320,
// initial value and final XOR 0xFFFFFFFF ("123456789" -> 0xCBF43926).
// Freestanding; the 1 KiB table is a compile-time constant (flash on an MCU).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mcusplit::device {

// Continues a CRC over more bytes, with zlib's convention: start from 0 and
// pass the previous result, so crc32_update(crc32(a), b) == crc32(a then b).
uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size);

inline uint32_t crc32(const uint8_t* data, size_t size) {
  return crc32_update(0, data, size);
}

}  // namespace mcusplit::device
