// A device image's authentication (docs/device_image.md, "Authentication").
// With a cluster key the coordinator sends each image followed by a tag: the
// first kTagBytes of HMAC-SHA256(key, kImageTagLabel || image). A device
// with the key refuses an image without a tag or with a wrong one before it
// parses a byte of it; a device without one refuses a tagged image (its
// coordinator has a key it lacks), so a key on one side only is named.
// Freestanding: the firmware and the host worker check alike.
#pragma once

#include <cstddef>
#include <cstdint>

#include "device/hmac_sha256.h"

namespace mcusplit::device {

// Keeps an image's tag from ever standing for a frame's (or any other use of
// the key): the MAC of one kind of message is not that of another.
inline constexpr char kImageTagLabel[] = "mcusplit device image";

// A firmware's cluster key slot (firmware/mps2.ld.in, KEY_ADDRESS in its
// layout): these 4 bytes, the kClusterKeyBytes key, then 8 random bytes of
// this boot's (little-endian; the device's part of its link's nonce, which
// a real MCU would take from its random number generator). Anything else
// there (QEMU starts it zeroed): the device has no key.
inline constexpr char kKeySlotMagic[4] = {'M', 'S', 'K', '1'};
inline constexpr size_t kKeySlotBytes = sizeof kKeySlotMagic + kClusterKeyBytes + 8;

enum class ImageAuthStatus : uint8_t {
  Ok,             // tagged and the tag is right, or untagged and no key
  NotTagged,      // the device has a key; the image has no tag
  TagWithoutKey,  // the image has a tag; the device has no key
  WrongTag,       // the tag is not the image's under the device's key
};

const char* image_auth_status_text(ImageAuthStatus status);

// The header's image length (docs/device_image.md), or 0 if `bytes` does not
// start with an image header: where an image's tag begins.
size_t declared_image_bytes(const uint8_t* bytes, size_t size);

// `bytes` holds an image (its header's length field says how long) and, if
// `size` is that plus kTagBytes, its tag. `key` (kClusterKeyBytes) may be
// nullptr: no key. Sets *image_bytes to what to parse (`size` if the header
// is unreadable: the parser then names what is wrong).
ImageAuthStatus check_image_tag(const uint8_t* bytes, size_t size, const uint8_t* key,
                                size_t* image_bytes);

// The tag of `image` under `key` (the device's own HMAC; the host computes
// it with OpenSSL, host/cluster_key.h, and the tests compare the two).
void image_tag(const uint8_t* image, size_t size, const uint8_t* key, uint8_t tag[kTagBytes]);

}  // namespace mcusplit::device
