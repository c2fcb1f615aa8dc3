// Cluster files: profiles, explicit devices, overrides, counts, and every
// rejected input with its message.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "plan/cluster_file.h"
#include "plan_test_helpers.h"

namespace mcusplit::plan {
namespace {

using testing::bad_input_message;
using testing::write_temp_file;

ClusterSpec read_text(const std::string& text) {
  return read_cluster_file(write_temp_file(text));
}

// The message of reading `text` from a file; checks it names the file.
std::string error_of(const std::string& text) {
  const std::string path = write_temp_file(text);
  const std::string message = bad_input_message([&] { read_cluster_file(path); });
  EXPECT_EQ(message.rfind("cluster file '" + path + "': ", 0), 0u) << message;
  return message;
}

TEST(ClusterFile, ProfilesExplicitDevicesAndCounts) {
  const ClusterSpec c = read_text(R"({
    "topology": "star",
    "devices": [
      {"name": "a", "profile": "teensy41"},
      {"name": "b", "ram_bytes": 262144, "flash_bytes": "2MiB", "macs_per_second": 5e7,
       "link": {"bits_per_second": 1e7, "latency_s": 0.001}},
      {"profile": "rp2040", "count": 4}
    ]})");
  EXPECT_EQ(c.topology, Topology::Star);
  ASSERT_EQ(c.device_count(), 6);
  EXPECT_EQ(c.devices[0].name, "a");
  EXPECT_EQ(c.devices[0].profile, "teensy41");
  EXPECT_EQ(c.devices[0].ram_bytes, 1048576);
  EXPECT_DOUBLE_EQ(c.devices[0].macs_per_second, 200e6);
  const DeviceSpec& b = c.devices[1];
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(b.profile, "");
  EXPECT_EQ(b.ram_bytes, 262144);
  EXPECT_EQ(b.flash_bytes, 2097152);
  EXPECT_EQ(b.macs_per_second, 5e7);
  EXPECT_EQ(b.link_bits_per_second, 1e7);
  EXPECT_EQ(b.link_latency_s, 0.001);
  EXPECT_EQ(c.devices[2].name, "rp2040-0");
  EXPECT_EQ(c.devices[5].name, "rp2040-3");
  EXPECT_EQ(c.devices[5].ram_bytes, 270336);
}

TEST(ClusterFile, TopologyDefaultsToSwitched) {
  EXPECT_EQ(read_text(R"({"devices":[{"profile":"esp32s3"}]})").topology, Topology::Switched);
  EXPECT_EQ(read_text(R"({"topology":"bus","devices":[{"profile":"esp32s3"}]})").topology,
            Topology::Bus);
}

TEST(ClusterFile, ExplicitFieldsOverrideTheProfile) {
  const ClusterSpec c = read_text(R"({"devices":[
    {"profile": "teensy41", "ram_bytes": "256KiB", "link": {"latency_s": 0}},
    {"profile": "teensy41", "cycles_per_mac": 6},
    {"profile": "teensy41", "clock_hz": 150e6},
    {"profile": "teensy41", "macs_per_second": 1e8, "flash_bytes": 4096,
     "link": {"bits_per_second": 1e6}}]})");
  ASSERT_EQ(c.device_count(), 4);
  EXPECT_EQ(c.devices[0].ram_bytes, 262144);
  EXPECT_EQ(c.devices[0].flash_bytes, 8388608);
  EXPECT_EQ(c.devices[0].link_latency_s, 0);
  EXPECT_EQ(c.devices[0].link_bits_per_second, 100e6);
  EXPECT_DOUBLE_EQ(c.devices[1].macs_per_second, 100e6);  // 600 MHz / 6
  EXPECT_DOUBLE_EQ(c.devices[2].macs_per_second, 50e6);   // 150 MHz / 3
  EXPECT_EQ(c.devices[3].macs_per_second, 1e8);
  EXPECT_EQ(c.devices[3].flash_bytes, 4096);
  EXPECT_EQ(c.devices[3].link_bits_per_second, 1e6);
  EXPECT_EQ(c.devices[3].link_latency_s, 100e-6);
  EXPECT_EQ(c.devices[1].name, "teensy41-1");
}

TEST(ClusterFile, ClockAndCyclesWithoutProfile) {
  const ClusterSpec c = read_text(R"({"devices":[{"name":"m4", "ram_bytes":131072,
    "flash_bytes":524288, "clock_hz":1.2e8, "cycles_per_mac":4,
    "link":{"bits_per_second":2e6,"latency_s":0.002}}]})");
  EXPECT_DOUBLE_EQ(c.devices[0].macs_per_second, 30e6);
}

TEST(ClusterFile, NamedEntryWithCountIsNumbered) {
  const ClusterSpec c = read_text(R"({"devices":[{"name":"node","profile":"rp2040","count":3}]})");
  ASSERT_EQ(c.device_count(), 3);
  EXPECT_EQ(c.devices[0].name, "node-0");
  EXPECT_EQ(c.devices[2].name, "node-2");
}

TEST(ClusterFile, UnnamedCustomDevicesAreNumbered) {
  const ClusterSpec c = read_text(R"({"devices":[{"ram_bytes":1000,"flash_bytes":1000,
    "macs_per_second":1e6,"link":{"bits_per_second":1e6,"latency_s":0}, "count": 2}]})");
  EXPECT_EQ(c.devices[0].name, "device-0");
  EXPECT_EQ(c.devices[1].name, "device-1");
}

TEST(ClusterFile, MalformedJsonGivesLineAndColumn) {
  const std::string message = error_of("{\n  \"devices\": [\n    {\"profile\": teensy41}\n  ]\n}");
  EXPECT_NE(message.find("malformed JSON"), std::string::npos) << message;
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("column"), std::string::npos) << message;
  EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
}

TEST(ClusterFile, EmptyAndTruncatedFilesAreMalformed) {
  EXPECT_NE(error_of("").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"devices":[{"profile":"teensy41"})").find("malformed JSON"),
            std::string::npos);
}

TEST(ClusterFile, MissingFileIsAnError) {
  const std::string path = ::testing::TempDir() + "mcusplit_no_such_cluster.json";
  const std::string message = bad_input_message([&] { read_cluster_file(path); });
  EXPECT_NE(message.find("cluster file '" + path + "': cannot open"), std::string::npos) << message;
}

TEST(ClusterFile, DirectoryIsAnError) {
  const std::string path = ::testing::TempDir();
  EXPECT_NE(bad_input_message([&] { read_cluster_file(path); }).find("is a directory"),
            std::string::npos);
}

// A device or an endless stream is refused before it is read: /dev/zero
// would otherwise be read forever (found by the cluster JSON fuzz session).
TEST(ClusterFile, ANonRegularFileIsRefusedUnread) {
  EXPECT_NE(bad_input_message([] { read_cluster_file("/dev/zero"); }).find("not a regular file"),
            std::string::npos);
  const std::string cluster = testing::write_temp_file(
      R"({"devices": [{"profile": "an385", "calibration": "/dev/zero"}]})");
  const std::string message = bad_input_message([&] { read_cluster_file(cluster); });
  EXPECT_NE(message.find("calibration '/dev/zero': not a regular file"), std::string::npos)
      << message;
}

struct BadCase {
  const char* what;
  const char* json;
  const char* expected;
};

// A custom device with every field, for cases that spoil one of them.
#define CUSTOM_LINK R"("link":{"bits_per_second":1e6,"latency_s":0.001})"

const BadCase kBadCases[] = {
    {"top level array", R"([1,2])", "top level must be a JSON object"},
    {"unknown top key", R"({"devices":[{"profile":"teensy41"}],"topologie":"star"})",
     "unknown key 'topologie' (known: topology, devices)"},
    {"unknown device key", R"({"devices":[{"profile":"teensy41","ram_byte":1}]})",
     "devices[0]: unknown key 'ram_byte'"},
    {"unknown link key", R"({"devices":[{"profile":"teensy41","link":{"latency":1}}]})",
     "devices[0]: link: unknown key 'latency'"},
    {"unknown profile", R"({"devices":[{"profile":"teensy40"}]})",
     "devices[0]: unknown device profile 'teensy40' (known: teensy41, stm32h743, esp32s3, "
     "rp2040, nrf52840, an385, an386, an500, an505)"},
    {"unknown topology", R"({"topology":"ring","devices":[{"profile":"teensy41"}]})",
     "unknown topology 'ring' (known: switched, star, bus)"},
    {"topology not a string", R"({"topology":1,"devices":[{"profile":"teensy41"}]})",
     "'topology' must be a string"},
    {"no devices key", R"({"topology":"star"})", "missing 'devices'"},
    {"devices not an array", R"({"devices":{"profile":"teensy41"}})", "'devices' must be an array"},
    {"empty device list", R"({"devices":[]})", "'devices' is empty"},
    {"device not an object", R"({"devices":["teensy41"]})", "devices[0] must be an object"},
    {"profile not a string", R"({"devices":[{"profile":41}]})", "'profile' must be a string"},
    {"zero ram", R"({"devices":[{"profile":"teensy41","ram_bytes":0}]})",
     "'ram_bytes' must be positive"},
    {"negative ram", R"({"devices":[{"profile":"teensy41","ram_bytes":-1024}]})",
     "'ram_bytes' must be positive"},
    {"fractional ram", R"({"devices":[{"profile":"teensy41","ram_bytes":1.5}]})",
     "'ram_bytes' must be a positive integer or a size string"},
    {"bad ram string", R"({"devices":[{"profile":"teensy41","ram_bytes":"12 parsecs"}]})",
     "'ram_bytes': bad byte size '12 parsecs'"},
    {"zero ram string", R"({"devices":[{"profile":"teensy41","ram_bytes":"0KiB"}]})",
     "must be positive"},
    {"negative flash", R"({"devices":[{"profile":"teensy41","flash_bytes":-1}]})",
     "'flash_bytes' must be positive"},
    {"zero rate", R"({"devices":[{"profile":"teensy41","macs_per_second":0}]})",
     "'macs_per_second' must be positive"},
    {"negative clock", R"({"devices":[{"profile":"teensy41","clock_hz":-6e8}]})",
     "'clock_hz' must be positive"},
    {"zero cycles", R"({"devices":[{"profile":"teensy41","cycles_per_mac":0}]})",
     "'cycles_per_mac' must be positive"},
    {"rate as string", R"({"devices":[{"profile":"teensy41","macs_per_second":"fast"}]})",
     "'macs_per_second' must be a number"},
    {"rate and clock", R"({"devices":[{"profile":"teensy41","macs_per_second":1,"clock_hz":1}]})",
     "not both"},
    {"zero bandwidth", R"({"devices":[{"profile":"teensy41","link":{"bits_per_second":0}}]})",
     "link: 'bits_per_second' must be positive"},
    {"negative latency", R"({"devices":[{"profile":"teensy41","link":{"latency_s":-1}}]})",
     "link: 'latency_s' must not be negative"},
    {"link not an object", R"({"devices":[{"profile":"teensy41","link":100}]})",
     "link must be an object"},
    {"zero count", R"({"devices":[{"profile":"teensy41","count":0}]})",
     "'count' must be a positive integer"},
    {"fractional count", R"({"devices":[{"profile":"teensy41","count":2.5}]})",
     "'count' must be a positive integer"},
    {"huge count", R"({"devices":[{"profile":"teensy41","count":5000}]})", "larger than 1024"},
    {"missing ram",
     R"({"devices":[{"name":"x","flash_bytes":1,"macs_per_second":1,)" CUSTOM_LINK "}]}",
     "devices[0]: missing 'ram_bytes' (required without a 'profile')"},
    {"missing flash",
     R"({"devices":[{"name":"x","ram_bytes":1,"macs_per_second":1,)" CUSTOM_LINK "}]}",
     "missing 'flash_bytes'"},
    {"missing rate", R"({"devices":[{"name":"x","ram_bytes":1,"flash_bytes":1,)" CUSTOM_LINK "}]}",
     "missing 'macs_per_second'"},
    {"clock without cycles",
     R"({"devices":[{"name":"x","ram_bytes":1,"flash_bytes":1,"clock_hz":1e6,)" CUSTOM_LINK "}]}",
     "missing 'cycles_per_mac'"},
    {"missing link",
     R"({"devices":[{"name":"x","ram_bytes":1,"flash_bytes":1,"macs_per_second":1}]})",
     "missing 'link'"},
    {"missing latency",
     R"({"devices":[{"name":"x","ram_bytes":1,"flash_bytes":1,"macs_per_second":1,)"
     R"("link":{"bits_per_second":1}}]})",
     "link: missing 'latency_s'"},
    {"duplicate names",
     R"({"devices":[{"name":"a","profile":"teensy41"},{"name":"a","profile":"rp2040"}]})",
     "duplicate device name 'a'"},
    {"explicit name clashing with an automatic one",
     R"({"devices":[{"profile":"teensy41"},{"name":"teensy41-0","profile":"rp2040"}]})",
     "duplicate device name 'teensy41-0'"},
    {"bad name", R"({"devices":[{"name":"my board","profile":"teensy41"}]})", "a name is"},
};

TEST(ClusterFile, BadInputIsRejectedWithTheReason) {
  for (const BadCase& c : kBadCases) {
    SCOPED_TRACE(c.what);
    const std::string message = error_of(c.json);
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
}

TEST(ClusterFile, ParseFromTextNamesTheOrigin) {
  const std::string message =
      bad_input_message([] { parse_cluster_json(R"({"devices":[]})", "inline cluster"); });
  EXPECT_EQ(message, "inline cluster: 'devices' is empty");
}

}  // namespace
}  // namespace mcusplit::plan

namespace mcusplit::plan {
namespace {

TEST(ClusterFile, LinksThatAcknowledgeEachFrame) {
  const ClusterSpec c = read_text(R"({"devices": [
    {"profile": "teensy41", "link": {"bits_per_second": 1e7, "latency_s": 0,
     "frame_overhead_bytes": 90, "window_frames": 1, "ack_round_trip_s": 0.0008}},
    {"profile": "teensy41"}]})");
  ASSERT_EQ(c.device_count(), 2);
  EXPECT_EQ(c.devices[0].link_frame_overhead_bytes, 90);
  EXPECT_EQ(c.devices[0].link_window_frames, 1);
  EXPECT_DOUBLE_EQ(c.devices[0].link_ack_round_trip_s, 0.0008);
  // Unsaid: a link that streams TCP frames.
  EXPECT_EQ(c.devices[1].link_frame_overhead_bytes, kTcpFrameOverheadBytes);
  EXPECT_EQ(c.devices[1].link_window_frames, 0);
  EXPECT_DOUBLE_EQ(c.devices[1].link_ack_round_trip_s, 0);
  const std::string base = R"({"devices": [{"profile": "teensy41", "link": {)";
  EXPECT_NE(error_of(base + R"("window_frames": -1}}]})").find("'window_frames' must be a whole number"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"("window_frames": 1.5}}]})").find("'window_frames' must be a whole number"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"("frame_overhead_bytes": 70000}}]})")
                .find("'frame_overhead_bytes' must be a whole number from 0 to 65536"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"("ack_round_trip_s": -0.1}}]})").find("must not be negative"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"("window": 1}}]})").find("unknown key 'window'"), std::string::npos);
}

}  // namespace
}  // namespace mcusplit::plan

namespace mcusplit::plan {
namespace {

TEST(ClusterFile, KernelRatesOverrideTheRateForTheirKernels) {
  const ClusterSpec c = read_text(R"({"devices": [
    {"profile": "teensy41", "macs_per_second": 2e8,
     "kernel_rates": {"depthwise": 5e7, "pointwise": 2.5e8}}]})");
  ASSERT_EQ(c.device_count(), 1);
  const DeviceSpec& d = c.devices[0];
  EXPECT_DOUBLE_EQ(work_per_second(d, "depthwise"), 5e7);
  EXPECT_DOUBLE_EQ(work_per_second(d, "pointwise"), 2.5e8);
  // A kernel without its own rate, and a local copy (""), at macs_per_second.
  EXPECT_DOUBLE_EQ(work_per_second(d, "conv"), 2e8);
  EXPECT_DOUBLE_EQ(work_per_second(d, ""), 2e8);
}

TEST(ClusterFile, KernelRatesMustNameKnownKernelsWithPositiveRates) {
  const std::string base = R"({"devices": [{"profile": "teensy41", "kernel_rates": )";
  EXPECT_NE(error_of(base + R"({"depthwsie": 1e7}}]})")
                .find("unknown kernel 'depthwsie' in kernel_rates (known: conv, pointwise, "
                      "depthwise, fully_connected, add"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"({"depthwise": 0}}]})").find("'depthwise' must be positive"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"({"depthwise": "fast"}}]})").find("'depthwise' must be a number"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"([1e7]}]})").find("kernel_rates must be an object"),
            std::string::npos);
}

TEST(ClusterValidation, KernelRatesAreCheckedWherePlansComeFrom) {
  ClusterSpec c = read_text(R"({"devices": [{"profile": "teensy41"}]})");
  c.devices[0].kernel_rates = {{"depthwise", 1e7}, {"depthwise", 2e7}};
  EXPECT_NE(bad_input_message([&] { validate_cluster(c, "x"); }).find("given twice"),
            std::string::npos);
  c.devices[0].kernel_rates = {{"softmax", -1}};
  EXPECT_NE(bad_input_message([&] { validate_cluster(c, "x"); }).find("must be positive"),
            std::string::npos);
}

}  // namespace
}  // namespace mcusplit::plan

namespace mcusplit::plan {
namespace {

TEST(ClusterFile, ADeviceNamesTheBoardItBootsOn) {
  const ClusterSpec c = read_text(R"({"devices": [
    {"profile": "an385", "count": 2}, {"profile": "teensy41", "board": "an500"},
    {"profile": "teensy41"}]})");
  ASSERT_EQ(c.device_count(), 4);
  EXPECT_EQ(c.devices[0].board, "an385");
  EXPECT_EQ(c.devices[1].board, "an385");
  EXPECT_EQ(c.devices[2].board, "an500");
  EXPECT_EQ(c.devices[3].board, "");
  EXPECT_NE(error_of(R"({"devices": [{"profile": "teensy41", "board": "an521"}]})")
                .find("devices[0]: unknown board 'an521' (known: an385, an386, an500, an505)"),
            std::string::npos);
}

TEST(ClusterFile, KernelCyclesPerWorkOutputInputPixelAndCallAtTheDevicesClock) {
  const ClusterSpec c = read_text(R"({"devices": [{"profile": "teensy41", "clock_hz": 5e8,
    "kernel_cycles": {"pointwise": {"work": 2, "output": 40, "input": 3, "pixel": 7, "call": 500},
                      "depthwise": 8}}]})");
  const DeviceSpec& d = c.devices[0];
  EXPECT_DOUBLE_EQ(d.clock_hz, 5e8);
  EXPECT_DOUBLE_EQ(work_per_second(d, "pointwise"), 2.5e8);
  // 1,000 work units writing 10 values of 5 pixels from 20, twice:
  // (2 * 1000 + 40 * 10 + 3 * 20 + 7 * 5 + 500 * 2) cycles.
  EXPECT_DOUBLE_EQ(kernel_seconds(d, "pointwise", {1000, 10, 20, 5, 2}), 3495 / 5e8);
  EXPECT_DOUBLE_EQ(kernel_seconds(d, "depthwise", {1000, 10, 20, 5, 2}), 8000 / 5e8);
  const std::string base = R"({"devices": [{"profile": "teensy41", "kernel_cycles": )";
  EXPECT_NE(error_of(base + R"({"conv": {"output": 3}}}]})").find("conv: missing 'work'"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"({"conv": {"work": 3, "calls": 1}}}]})").find("unknown key 'calls'"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"({"conv": 3}, "kernel_rates": {"conv": 1}}]})").find("not both"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"devices": [{"name": "x", "ram_bytes": 1024, "flash_bytes": 1024,
      "macs_per_second": 1e6, "link": {"bits_per_second": 1e6, "latency_s": 0},
      "kernel_cycles": {"conv": 3}}]})")
                .find("'kernel_cycles' needs the device's 'clock_hz'"),
            std::string::npos);
}

TEST(ClusterFile, ACalibrationFileGivesKernelCostsRelativeToTheClusterFile) {
  const std::string cluster = testing::write_temp_file(R"({"devices": [
    {"profile": "an385", "calibration": "m3.calibration.json"},
    {"profile": "teensy41", "calibration": "m3.calibration.json"}]})");
  const std::string dir = cluster.substr(0, cluster.rfind('/'));
  {
    std::ofstream out(dir + "/m3.calibration.json");
    out << R"({"board": "an385", "clock_hz": 7812500, "cases": [],
      "kernel_cycles": {"pointwise": {"work": 7, "output": 30, "pixel": 5, "call": 400}}})";
  }
  const ClusterSpec c = read_cluster_file(cluster);
  // The board keeps its own clock; the teensy41 its 600 MHz: the measured
  // instructions are cycles at either.
  EXPECT_DOUBLE_EQ(work_per_second(c.devices[0], "pointwise"), 7812500.0 / 7);
  EXPECT_DOUBLE_EQ(work_per_second(c.devices[1], "pointwise"), 600e6 / 7);
  EXPECT_DOUBLE_EQ(kernel_seconds(c.devices[1], "pointwise", {0, 1, 0, 1, 1}), 435 / 600e6);
  {
    std::ofstream out(dir + "/m3.calibration.json");
    out << R"({"board": "an385"})";
  }
  EXPECT_NE(bad_input_message([&] { read_cluster_file(cluster); })
                .find("not a calibration (mcusplit calibrate -o)"),
            std::string::npos);
  std::remove((dir + "/m3.calibration.json").c_str());
  EXPECT_NE(bad_input_message([&] { read_cluster_file(cluster); })
                .find("m3.calibration.json': cannot open"),
            std::string::npos);
}

}  // namespace
}  // namespace mcusplit::plan
