#include "device/image_auth.h"

#include "device/device_image.h"

namespace mcusplit::device {
size_t declared_image_bytes(const uint8_t* bytes, size_t size) {
  if (size < kImageHeaderBytes) return 0;
  for (size_t i = 0; i < sizeof kImageMagic; ++i) {
    if (bytes[kImageOffMagic + i] != kImageMagic[i]) return 0;
  }
  const uint8_t* n = bytes + kImageOffImageBytes;
  return size_t{n[0]} | size_t{n[1]} << 8 | size_t{n[2]} << 16 | size_t{n[3]} << 24;
}

const char* image_auth_status_text(ImageAuthStatus status) {
  switch (status) {
    case ImageAuthStatus::Ok:
      return "authentic";
    case ImageAuthStatus::NotTagged:
      return "the image carries no authentication tag, and this device has a cluster key "
             "(is the coordinator's --key-file missing?)";
    case ImageAuthStatus::TagWithoutKey:
      return "the image carries an authentication tag, and this device has no cluster key "
             "(--key-file)";
    case ImageAuthStatus::WrongTag:
      return "the image's authentication tag is wrong (another cluster key, or the image was "
             "altered)";
  }
  return "unknown";
}

void image_tag(const uint8_t* image, size_t size, const uint8_t* key, uint8_t tag[kTagBytes]) {
  uint8_t mac[kSha256Bytes];
  prefixed_hmac_sha256(key, reinterpret_cast<const uint8_t*>(kImageTagLabel),
                       sizeof kImageTagLabel - 1, image, size, mac);
  for (size_t i = 0; i < kTagBytes; ++i) tag[i] = mac[i];
}

ImageAuthStatus check_image_tag(const uint8_t* bytes, size_t size, const uint8_t* key,
                                size_t* image_bytes) {
  const size_t declared = declared_image_bytes(bytes, size);
  const bool tagged = declared > 0 && declared <= size && size - declared == kTagBytes;
  *image_bytes = tagged ? declared : size;
  if (key == nullptr) return tagged ? ImageAuthStatus::TagWithoutKey : ImageAuthStatus::Ok;
  if (!tagged) return ImageAuthStatus::NotTagged;
  uint8_t expected[kTagBytes];
  image_tag(bytes, declared, key, expected);
  return equal_in_constant_time(expected, bytes + declared, kTagBytes) ? ImageAuthStatus::Ok
                                                                       : ImageAuthStatus::WrongTag;
}

}  // namespace mcusplit::device
