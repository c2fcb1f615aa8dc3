// ClusterSpec helpers, topologies, validation and the --ram override.
#include <gtest/gtest.h>

#include <cmath>

#include "plan/cluster.h"
#include "plan/devices_shorthand.h"
#include "plan_test_helpers.h"

namespace mcusplit::plan {
namespace {

using testing::bad_input_message;

TEST(Cluster, TotalsOfAMixedCluster) {
  const ClusterSpec c = parse_devices_shorthand("2xteensy41,1xrp2040");
  EXPECT_EQ(c.device_count(), 3);
  EXPECT_EQ(c.total_ram_bytes(), 2 * 1048576 + 270336);
  EXPECT_EQ(c.total_flash_bytes(), 2 * 8388608 + 2097152);
  EXPECT_EQ(c.min_ram_bytes(), 270336);
  EXPECT_DOUBLE_EQ(c.total_macs_per_second(), 2 * 200e6 + 133e6 / 16);
  EXPECT_EQ(c.find_device("rp2040-0"), 2);
  EXPECT_EQ(c.find_device("teensy41-1"), 1);
  EXPECT_EQ(c.find_device("nope"), -1);
  EXPECT_EQ(ClusterSpec{}.min_ram_bytes(), 0);
}

TEST(Cluster, TopologyNamesRoundTrip) {
  for (Topology t : {Topology::Switched, Topology::Star, Topology::Bus}) {
    EXPECT_EQ(parse_topology(topology_name(t)), t);
  }
  EXPECT_STREQ(topology_name(Topology::Star), "star");
}

TEST(Cluster, UnknownTopologyListsTheKnownOnes) {
  for (const char* text : {"ring", "", "Switched", "mesh"}) {
    const std::string message = bad_input_message([&] { parse_topology(text); });
    EXPECT_NE(message.find("unknown topology '" + std::string(text) + "'"), std::string::npos);
    EXPECT_NE(message.find("switched, star, bus"), std::string::npos) << message;
  }
}

TEST(Cluster, RamOverrideSetsEveryDevice) {
  ClusterSpec c = parse_devices_shorthand("4xteensy41,4xrp2040");
  apply_ram_override(c, 256 * 1024);
  for (const DeviceSpec& d : c.devices) EXPECT_EQ(d.ram_bytes, 262144) << d.name;
  EXPECT_EQ(c.devices[0].flash_bytes, 8388608);  // only RAM changes
}

TEST(Cluster, RamOverrideRejectsZeroAndNegative) {
  ClusterSpec c = parse_devices_shorthand("teensy41");
  EXPECT_NE(bad_input_message([&] { apply_ram_override(c, 0); }).find("--ram"), std::string::npos);
  EXPECT_NE(bad_input_message([&] { apply_ram_override(c, -5); }).find("--ram"), std::string::npos);
  EXPECT_EQ(c.devices[0].ram_bytes, 1048576);
}

DeviceSpec good_device(const std::string& name) {
  return {name, "", 1000, 2000, 1e6, 1e6, 0};
}

TEST(ClusterValidation, AcceptsAWellFormedCluster) {
  ClusterSpec c;
  c.devices = {good_device("a"), good_device("b_1.x-2")};
  EXPECT_NO_THROW(validate_cluster(c, "test"));
}

TEST(ClusterValidation, RejectsEachBadFigure) {
  struct Case {
    const char* what;
    void (*spoil)(DeviceSpec&);
    const char* expected;
  };
  const Case cases[] = {
      {"zero ram", [](DeviceSpec& d) { d.ram_bytes = 0; }, "ram_bytes must be positive"},
      {"negative flash", [](DeviceSpec& d) { d.flash_bytes = -1; }, "flash_bytes must be positive"},
      {"zero rate", [](DeviceSpec& d) { d.macs_per_second = 0; }, "compute rate must be positive"},
      {"nan rate", [](DeviceSpec& d) { d.macs_per_second = std::nan(""); }, "compute rate"},
      {"zero link", [](DeviceSpec& d) { d.link_bits_per_second = 0; }, "bits_per_second"},
      {"negative latency", [](DeviceSpec& d) { d.link_latency_s = -1e-3; }, "latency_s"},
      {"empty name", [](DeviceSpec& d) { d.name = ""; }, "a name is"},
      {"space in name", [](DeviceSpec& d) { d.name = "a b"; }, "a name is"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ClusterSpec cluster;
    cluster.devices = {good_device("a")};
    c.spoil(cluster.devices[0]);
    const std::string message = bad_input_message([&] { validate_cluster(cluster, "origin"); });
    EXPECT_EQ(message.rfind("origin: ", 0), 0u) << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
}

TEST(ClusterValidation, RejectsEmptyAndDuplicateNames) {
  ClusterSpec c;
  EXPECT_NE(bad_input_message([&] { validate_cluster(c, "x"); }).find("no devices"),
            std::string::npos);
  c.devices = {good_device("a"), good_device("a")};
  EXPECT_NE(bad_input_message([&] { validate_cluster(c, "x"); }).find("duplicate device name 'a'"),
            std::string::npos);
}

}  // namespace
}  // namespace mcusplit::plan
