// The body of the Provision message of the host runtime: the device's own
// device image (docs/device_image.md: its program and only its weight
// slices), the name of every participant (for messages) and the listening
// address of every device, so that workers can connect to each other.
// Layout, little-endian: u32 image byte count and the image, u32 name count
// and per participant a u32 byte count and the name, u32 address count and
// per device a u32 byte count and the "HOST:PORT" text. No addresses means
// the star topology: the device talks to everyone through the coordinator
// and connects to no peer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcusplit::host {

struct Provisioning {
  std::string image;                   // the device's image
  std::vector<std::string> names;      // per participant, devices then the coordinator
  std::vector<std::string> addresses;  // per device, in cluster order; none: star
};

std::vector<uint8_t> encode_provisioning(const Provisioning& p);

// Throws mcusplit::Error (exit code 2) on a truncated or inconsistent body.
Provisioning decode_provisioning(const std::vector<uint8_t>& body);

}  // namespace mcusplit::host
