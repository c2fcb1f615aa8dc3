#include "device/hmac_sha256.h"

namespace mcusplit::device {

void HmacSha256::start(const uint8_t* key, size_t key_bytes) {
  inner_ = Sha256{};
  outer_ = Sha256{};
  // K0: the key, hashed first if longer than a block, zero-padded to one.
  uint8_t k0[kSha256BlockBytes] = {};
  if (key_bytes > kSha256BlockBytes) {
    sha256(key, key_bytes, k0);
  } else {
    for (size_t i = 0; i < key_bytes; ++i) k0[i] = key[i];
  }
  uint8_t pad[kSha256BlockBytes];
  for (size_t i = 0; i < kSha256BlockBytes; ++i) pad[i] = static_cast<uint8_t>(k0[i] ^ 0x36);
  inner_.update(pad, kSha256BlockBytes);
  for (size_t i = 0; i < kSha256BlockBytes; ++i) pad[i] = static_cast<uint8_t>(k0[i] ^ 0x5c);
  outer_.update(pad, kSha256BlockBytes);
}

void HmacSha256::finish(uint8_t mac[kSha256Bytes]) {
  uint8_t inner[kSha256Bytes];
  inner_.finish(inner);
  outer_.update(inner, kSha256Bytes);
  outer_.finish(mac);
}

void hmac_sha256(const uint8_t* key, size_t key_bytes, const uint8_t* data, size_t size,
                 uint8_t mac[kSha256Bytes]) {
  HmacSha256 h(key, key_bytes);
  h.update(data, size);
  h.finish(mac);
}

void prefixed_hmac_sha256(const uint8_t* key, const uint8_t* prefix, size_t prefix_bytes,
                          const uint8_t* data, size_t size, uint8_t mac[kSha256Bytes]) {
  HmacSha256 h(key, kClusterKeyBytes);
  h.update(prefix, prefix_bytes);
  h.update(data, size);
  h.finish(mac);
}

bool equal_in_constant_time(const uint8_t* a, const uint8_t* b, size_t n) {
  // volatile: the compiler may not turn the loop into an early-exit compare.
  volatile uint8_t differ = 0;
  for (size_t i = 0; i < n; ++i) differ = static_cast<uint8_t>(differ | (a[i] ^ b[i]));
  return differ == 0;
}

}  // namespace mcusplit::device
