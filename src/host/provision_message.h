// The body of the Provision message of the host runtime (this slice): the
// whole plan file, from which a worker builds its own participant's program,
// and the listening address of every device, so that workers can connect to
// each other. Layout, little-endian: u32 plan byte count, the plan file's
// bytes, u32 address count, then per device a u32 byte count and the
// "HOST:PORT" text. No addresses means the star topology: the device talks
// to everyone through the coordinator and connects to no peer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcusplit::host {

struct Provisioning {
  std::string plan_bytes;              // a whole plan file, header included
  std::vector<std::string> addresses;  // per device, in cluster order
};

std::vector<uint8_t> encode_provisioning(const Provisioning& p);

// Throws mcusplit::Error (exit code 2) on a truncated or inconsistent body.
Provisioning decode_provisioning(const std::vector<uint8_t>& body);

}  // namespace mcusplit::host
