#include "host/ethernet_addresses.h"

#include <cstdio>

#include "common/error.h"

namespace mcusplit::host {
namespace {

device::MacAddress mcusplit_mac(uint8_t group, uint8_t index) {
  return device::MacAddress{{0x02, 0x6d, 0x73, 0x00, group, index}};
}

}  // namespace

device::MacAddress device_mac(int device) {
  if (device < 0 || device >= kMaxEthernetDevices) {
    throw Error("an Ethernet run numbers at most " + std::to_string(kMaxEthernetDevices) +
                " devices in their MACs; device " + std::to_string(device) + " is outside");
  }
  return mcusplit_mac(0x01, static_cast<uint8_t>(device));
}

device::MacAddress coordinator_mac() {
  return mcusplit_mac(0x00, 0xfe);
}

std::string mac_text(const device::MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac.bytes[0], mac.bytes[1],
                mac.bytes[2], mac.bytes[3], mac.bytes[4], mac.bytes[5]);
  return text;
}

std::vector<std::string> ethernet_provision_addresses(int device_count, bool star) {
  std::vector<std::string> addresses;
  addresses.reserve(static_cast<size_t>(device_count) + 1);
  for (int i = 0; i < device_count; ++i) {
    addresses.push_back(mac_text(star ? coordinator_mac() : device_mac(i)));
  }
  addresses.push_back(mac_text(coordinator_mac()));
  return addresses;
}

}  // namespace mcusplit::host
