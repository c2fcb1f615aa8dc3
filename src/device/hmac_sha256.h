// HMAC-SHA256 (RFC 2104, FIPS 198-1) over device/sha256.h, freestanding,
// and a constant-time tag comparison: what frames and device images are
// authenticated with when the cluster has a key (docs/protocol.md,
// "Authentication").
#pragma once

#include <cstddef>
#include <cstdint>

#include "device/sha256.h"

namespace mcusplit::device {

// The per-cluster secret's size (`mcusplit keygen`).
inline constexpr size_t kClusterKeyBytes = 32;
// Tags are the HMAC's first 16 bytes: a forgery succeeds with probability
// 2^-128 per try, and a frame carries 16 bytes less (RFC 2104 section 5
// allows truncating to at least half the hash).
inline constexpr size_t kTagBytes = 16;

// Incremental: the key is taken once; update() any number of times, then
// finish() once. start() begins a new MAC (a link's, one per frame, in
// place: no second context on the stack).
class HmacSha256 {
 public:
  HmacSha256() = default;
  HmacSha256(const uint8_t* key, size_t key_bytes) { start(key, key_bytes); }
  void start(const uint8_t* key, size_t key_bytes);
  void update(const uint8_t* data, size_t size) { inner_.update(data, size); }
  void finish(uint8_t mac[kSha256Bytes]);

 private:
  Sha256 inner_;
  Sha256 outer_;
};

void hmac_sha256(const uint8_t* key, size_t key_bytes, const uint8_t* data, size_t size,
                 uint8_t mac[kSha256Bytes]);

// HMAC-SHA256(key, prefix || data) under a kClusterKeyBytes key: what a tag
// is made of (its label, and a frame's nonce, in the prefix). The signature
// of frame_codec.h's FrameMac, whose default it is.
void prefixed_hmac_sha256(const uint8_t* key, const uint8_t* prefix, size_t prefix_bytes,
                          const uint8_t* data, size_t size, uint8_t mac[kSha256Bytes]);

// Whether a and b hold the same n bytes, in a time that does not depend on
// where they differ (a tag compared byte by byte with an early exit leaks,
// through timing, how many leading bytes a forgery got right).
bool equal_in_constant_time(const uint8_t* a, const uint8_t* b, size_t n);

}  // namespace mcusplit::device
