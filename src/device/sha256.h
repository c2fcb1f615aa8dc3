// SHA-256 (FIPS 180-4), freestanding: what a device authenticates frames and
// images with (hmac_sha256.h). The host checks it against OpenSSL's; the
// firmware has no crypto library of its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mcusplit::device {

inline constexpr size_t kSha256Bytes = 32;
inline constexpr size_t kSha256BlockBytes = 64;

// Incremental: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  void update(const uint8_t* data, size_t size);
  void finish(uint8_t digest[kSha256Bytes]);

 private:
  void compress(const uint8_t block[kSha256BlockBytes]);

  uint32_t state_[8];
  uint64_t total_bytes_ = 0;
  uint8_t block_[kSha256BlockBytes] = {};
  size_t used_ = 0;  // bytes of block_ filled
};

void sha256(const uint8_t* data, size_t size, uint8_t digest[kSha256Bytes]);

}  // namespace mcusplit::device
