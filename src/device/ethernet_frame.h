// The link layer of emulated devices on Ethernet (docs/protocol.md, "Raw
// Ethernet"): one protocol frame per Ethernet frame, unchanged, after a
// 14-byte header (destination MAC, source MAC, EtherType 0x88B5, the first
// of IEEE 802's local experimental EtherTypes). No IP: the participants of a
// plan share one switched segment, the protocol already carries who sends to
// whom (participant indices), checksums and sequence numbers, and a device
// then needs no IP stack, ARP table or UDP checksum. A full frame with the
// plan's default max payload (1,448 bytes) fits the 1,500-byte MTU.
// Freestanding, header-only: the firmware's driver and the host's bridge
// both use it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "device/protocol.h"

namespace mcusplit::device {

inline constexpr uint16_t kEtherType = 0x88B5;
inline constexpr size_t kMacBytes = 6;
inline constexpr size_t kEthernetHeaderBytes = 14;  // destination, source, EtherType
inline constexpr size_t kEthernetMtu = 1500;        // payload bytes of one Ethernet frame
static_assert(kHeaderBytes + kDefaultMaxPayload + kCrcBytes <= kEthernetMtu,
              "a full frame at the default max payload fits one Ethernet frame");

struct MacAddress {
  uint8_t bytes[kMacBytes] = {};
  friend bool operator==(const MacAddress& a, const MacAddress& b) {
    for (size_t i = 0; i < kMacBytes; ++i) {
      if (a.bytes[i] != b.bytes[i]) return false;
    }
    return true;
  }
  bool is_zero() const { return *this == MacAddress{}; }
};

// "02:6d:73:00:00:01" (exactly: six pairs of hex digits, colons between).
inline bool parse_mac(const char* text, size_t length, MacAddress* out) {
  if (length != 17) return false;
  for (size_t i = 0; i < kMacBytes; ++i) {
    uint8_t v = 0;
    for (size_t k = 0; k < 2; ++k) {
      const char c = text[3 * i + k];
      uint8_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint8_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint8_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint8_t>(c - 'A' + 10);
      } else {
        return false;
      }
      v = static_cast<uint8_t>(v << 4 | d);
    }
    if (i + 1 < kMacBytes && text[3 * i + 2] != ':') return false;
    out->bytes[i] = v;
  }
  return true;
}

// The 14-byte header of a frame from `source` to `destination`.
inline void encode_ethernet_header(const MacAddress& destination, const MacAddress& source,
                                   uint8_t out[kEthernetHeaderBytes]) {
  for (size_t i = 0; i < kMacBytes; ++i) {
    out[i] = destination.bytes[i];
    out[kMacBytes + i] = source.bytes[i];
  }
  out[12] = static_cast<uint8_t>(kEtherType >> 8);  // network byte order
  out[13] = static_cast<uint8_t>(kEtherType & 0xFF);
}

// Why a received Ethernet frame is not for this participant.
enum class EthernetVerdict : uint8_t {
  Ok,
  Short,          // shorter than its header plus a protocol frame header
  WrongType,      // another EtherType
  NotAddressed,   // another destination MAC
  UnknownSource,  // a source MAC that is no participant's
};

inline const char* ethernet_verdict_name(EthernetVerdict v) {
  switch (v) {
    case EthernetVerdict::Ok:
      return "ok";
    case EthernetVerdict::Short:
      return "too short";
    case EthernetVerdict::WrongType:
      return "wrong EtherType";
    case EthernetVerdict::NotAddressed:
      return "not addressed here";
    case EthernetVerdict::UnknownSource:
      return "unknown source MAC";
  }
  return "unknown";
}

// Checks the header of a received frame of `size` bytes (the frame check
// sequence not included) against this participant's MAC; whether the
// source is known is the caller's table's to say.
inline EthernetVerdict check_ethernet_header(const uint8_t* frame, size_t size,
                                             const MacAddress& self) {
  if (size < kEthernetHeaderBytes + kHeaderBytes) return EthernetVerdict::Short;
  if (frame[12] != static_cast<uint8_t>(kEtherType >> 8) ||
      frame[13] != static_cast<uint8_t>(kEtherType & 0xFF)) {
    return EthernetVerdict::WrongType;
  }
  for (size_t i = 0; i < kMacBytes; ++i) {
    if (frame[i] != self.bytes[i]) return EthernetVerdict::NotAddressed;
  }
  return EthernetVerdict::Ok;
}

inline MacAddress source_mac(const uint8_t* frame) {
  MacAddress m;
  for (size_t i = 0; i < kMacBytes; ++i) m.bytes[i] = frame[kMacBytes + i];
  return m;
}

}  // namespace mcusplit::device
