// Who is which MAC on an emulated Ethernet run, what the Provision message
// tells the devices for each topology, and which firmware build a run on
// Ethernet boots (host/ethernet_addresses.h, host/qemu_launcher.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "device/ethernet_frame.h"
#include "host/ethernet_addresses.h"
#include "host/qemu_launcher.h"

namespace mcusplit::host {
namespace {

TEST(EthernetAddresses, DevicesAndTheCoordinatorHaveFixedMacs) {
  EXPECT_EQ(mac_text(device_mac(0)), "02:6d:73:00:01:00");
  EXPECT_EQ(mac_text(device_mac(10)), "02:6d:73:00:01:0a");
  EXPECT_EQ(mac_text(device_mac(255)), "02:6d:73:00:01:ff");
  EXPECT_EQ(mac_text(coordinator_mac()), "02:6d:73:00:00:fe");
  for (int i : {0, 1, 127, 255}) {
    EXPECT_FALSE(device_mac(i) == coordinator_mac());
    // What the firmware reads back from the Provision message.
    const std::string text = mac_text(device_mac(i));
    device::MacAddress parsed;
    ASSERT_TRUE(device::parse_mac(text.c_str(), text.size(), &parsed)) << text;
    EXPECT_TRUE(parsed == device_mac(i)) << text;
  }
  try {
    device_mac(kMaxEthernetDevices);
    ADD_FAILURE() << "a 257th device got a MAC";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at most 256 devices"), std::string::npos) << e.what();
  }
  EXPECT_THROW(device_mac(-1), Error);
}

TEST(EthernetAddresses, ProvisionListsWhereEachParticipantsFramesGo) {
  const std::vector<std::string> switched = ethernet_provision_addresses(3, false);
  EXPECT_EQ(switched, (std::vector<std::string>{"02:6d:73:00:01:00", "02:6d:73:00:01:01",
                                                "02:6d:73:00:01:02", "02:6d:73:00:00:fe"}));
  // Star: the coordinator's bridge relays every frame between devices.
  const std::vector<std::string> star = ethernet_provision_addresses(2, true);
  EXPECT_EQ(star, (std::vector<std::string>{"02:6d:73:00:00:fe", "02:6d:73:00:00:fe",
                                            "02:6d:73:00:00:fe"}));
}

TEST(EthernetAddresses, EthernetFirmwareLiesBesideTheUartBuild) {
  EXPECT_EQ(ethernet_firmware("/b/firmware-device/mcusplit_fw_device.elf"),
            "/b/firmware-device/mcusplit_fw_device_eth.elf");
  EXPECT_EQ(ethernet_firmware("/b/firmware-device/ram-64k/mcusplit_fw_device_64k.elf"),
            "/b/firmware-device/ram-64k/mcusplit_fw_device_eth_64k.elf");
  EXPECT_EQ(ethernet_firmware("mcusplit_fw_device.elf"), "mcusplit_fw_device_eth.elf");
  // Already the Ethernet build, or another firmware: as it is.
  EXPECT_EQ(ethernet_firmware("/b/mcusplit_fw_device_eth.elf"), "/b/mcusplit_fw_device_eth.elf");
  EXPECT_EQ(ethernet_firmware("/b/my_firmware.elf"), "/b/my_firmware.elf");
  EXPECT_EQ(ethernet_firmware("/b/mcusplit_fw_devices.elf"), "/b/mcusplit_fw_devices.elf");
  EXPECT_EQ(ethernet_firmware(""), "");
}

}  // namespace
}  // namespace mcusplit::host
