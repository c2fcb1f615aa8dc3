// Who is which MAC on the emulated Ethernet of one `mcusplit run --link
// ethernet` (docs/protocol.md, "Raw Ethernet"): device i is
// 02:6d:73:00:01:XX with XX = i, the coordinator (its bridge,
// host/ethernet_bridge.h) 02:6d:73:00:00:fe. Locally administered unicast
// addresses (0x02 in the first byte), "ms" (0x6d 0x73) for mcusplit; the
// same in every run, since every run has a private switch.
#pragma once

#include <string>
#include <vector>

#include "device/ethernet_frame.h"

namespace mcusplit::host {

// At most 256 devices: one byte of the MAC numbers them.
inline constexpr int kMaxEthernetDevices = 256;

// Throws mcusplit::Error (exit code 2) if `device` is outside
// [0, kMaxEthernetDevices).
device::MacAddress device_mac(int device);
device::MacAddress coordinator_mac();

// "02:6d:73:00:01:00" (lower-case hex, what device::parse_mac reads).
std::string mac_text(const device::MacAddress& mac);

// The Provision message's address list on Ethernet: per participant
// (devices, then the coordinator) the MAC its frames are sent to. Switched:
// each device's own; star: the coordinator's for every device too (its
// bridge relays them). The coordinator's entry is always its own MAC.
std::vector<std::string> ethernet_provision_addresses(int device_count, bool star);

}  // namespace mcusplit::host
