// The per-cluster secret key (`mcusplit keygen`, `--key-file`): 32 random
// bytes in a file only its owner may read, and the host's HMAC-SHA256 of
// images under it (OpenSSL's libcrypto; the devices check with their own,
// device/image_auth.h). docs/protocol.md, "Authentication".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "device/hmac_sha256.h"

namespace mcusplit::host {

using ClusterKey = std::array<uint8_t, device::kClusterKeyBytes>;

// 32 bytes from OpenSSL's random generator. Throws mcusplit::Error if it
// has no entropy.
ClusterKey generate_cluster_key();

// Writes `key` to a new file of mode 0600. Throws mcusplit::Error (bad
// input) if `path` exists (a cluster's key is never overwritten: its devices
// would no longer accept its coordinator) or cannot be created; a failed
// write leaves no file.
void write_cluster_key(const std::string& path, const ClusterKey& key);

// Reads a key file. Throws mcusplit::Error (bad input) naming the file if it
// is missing, not a regular file, readable or writable by group or others
// (ssh's rule for private keys), or not exactly 32 bytes.
ClusterKey read_cluster_key(const std::string& path);

// HMAC-SHA256(key, prefix || data) by OpenSSL, without copying them
// together: a device::FrameMac, which the host's frames are tagged with.
void openssl_prefixed_hmac_sha256(const uint8_t* key, const uint8_t* prefix, size_t prefix_bytes,
                                  const uint8_t* data, size_t size,
                                  uint8_t mac[device::kSha256Bytes]);

// 8 bytes from OpenSSL's random generator (a greeting's challenge). Throws
// mcusplit::Error if it has no entropy.
uint64_t random_u64();

// `image` followed by its tag under `key` (device/image_auth.h), as the
// coordinator provisions it.
std::vector<uint8_t> tagged_image(const std::vector<uint8_t>& image, const ClusterKey& key);

}  // namespace mcusplit::host
