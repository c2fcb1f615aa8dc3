// The --devices shorthand: counts, mixes, names, and bad specs.
#include <gtest/gtest.h>

#include "plan/devices_shorthand.h"
#include "plan_test_helpers.h"

namespace mcusplit::plan {
namespace {

using testing::bad_input_message;

TEST(DevicesShorthand, CountTimesProfile) {
  const ClusterSpec c = parse_devices_shorthand("8xteensy41");
  ASSERT_EQ(c.device_count(), 8);
  EXPECT_EQ(c.topology, Topology::Switched);
  for (int i = 0; i < 8; ++i) {
    const DeviceSpec& d = c.devices[static_cast<size_t>(i)];
    EXPECT_EQ(d.name, "teensy41-" + std::to_string(i));
    EXPECT_EQ(d.profile, "teensy41");
    EXPECT_EQ(d.ram_bytes, 1048576);
    EXPECT_DOUBLE_EQ(d.macs_per_second, 200e6);
  }
}

TEST(DevicesShorthand, MixedProfilesKeepTheirOrder) {
  const ClusterSpec c = parse_devices_shorthand("4xteensy41,4xrp2040");
  ASSERT_EQ(c.device_count(), 8);
  EXPECT_EQ(c.devices[3].name, "teensy41-3");
  EXPECT_EQ(c.devices[4].name, "rp2040-0");
  EXPECT_EQ(c.devices[7].name, "rp2040-3");
  EXPECT_EQ(c.devices[7].ram_bytes, 270336);
}

TEST(DevicesShorthand, BareProfileIsOneDevice) {
  const ClusterSpec c = parse_devices_shorthand("teensy41");
  ASSERT_EQ(c.device_count(), 1);
  EXPECT_EQ(c.devices[0].name, "teensy41-0");
}

TEST(DevicesShorthand, RepeatedProfileKeepsCountingNames) {
  const ClusterSpec c = parse_devices_shorthand("2xteensy41, nrf52840 ,1xteensy41");
  ASSERT_EQ(c.device_count(), 4);
  EXPECT_EQ(c.devices[2].name, "nrf52840-0");
  EXPECT_EQ(c.devices[3].name, "teensy41-2");
}

TEST(DevicesShorthand, EveryProfileIsAccepted) {
  const ClusterSpec c = parse_devices_shorthand("teensy41,stm32h743,esp32s3,rp2040,nrf52840");
  EXPECT_EQ(c.device_count(), 5);
}

TEST(DevicesShorthand, BadSpecsNameTheProblem) {
  struct Case {
    const char* spec;
    const char* expected;
  };
  const Case cases[] = {
      {"0xteensy41", "device count '0' must be positive"},
      {"-2xteensy41", "device count '-2' is not a positive integer"},
      {"8x", "missing device profile"},
      {"8xfoo", "unknown device profile 'foo'"},
      {"foo", "unknown device profile 'foo'"},
      {"8Xteensy41", "unknown device profile '8Xteensy41'"},
      {"", "empty item"},
      {"teensy41,", "empty item"},
      {"teensy41,,rp2040", "empty item"},
      {"2000xteensy41", "larger than 1024"},
      {"99999999999xteensy41", "larger than 1024"},
      {"1000xteensy41,100xrp2040", "more than 1024 devices"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    const std::string message = bad_input_message([&] { parse_devices_shorthand(c.spec); });
    EXPECT_EQ(message.rfind("device spec '" + std::string(c.spec) + "': ", 0), 0u) << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
}

TEST(DevicesShorthand, UnknownProfileListsTheKnownOnes) {
  const std::string message = bad_input_message([] { parse_devices_shorthand("8xfoo"); });
  EXPECT_NE(message.find("known: teensy41, stm32h743, esp32s3, rp2040, nrf52840"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace mcusplit::plan
