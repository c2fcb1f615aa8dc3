// Emulated MCUs on switched Ethernet (`mcusplit run --targets qemu --link
// ethernet`, docs/firmware.md "Ethernet", docs/protocol.md "Lossy links"):
// QEMU mps2-an500s whose LAN9118s plug into a vde_switch, with the
// coordinator's bridge on the same switch.
//   - the trained-architecture Fashion-MNIST model on 4 emulated MCUs,
//     switched (devices send to each other through the switch) and star
//     (through the coordinator), bit-exact with `mcusplit infer`, every
//     device's measured high water, bytes and frames equal to the plan's;
//   - the same with 5% of the frames lost on every link (wirefilter):
//     still bit-exact and equal to the plan, the retransmissions reported;
//   - random frames injected into the switch during a run (for the devices'
//     MACs: another EtherType, an unknown sender, too short, noise after a
//     sound Ethernet header): dropped and counted, the run bit-exact;
//   - a QEMU killed mid-inference is named within the timeout; a link whose
//     wirefilter dies is reported as that device's link; nothing is left
//     behind.
// Run by tests/firmware/run_device_tests.sh (MCUSPLIT_FW_DEVICE_ETH_ELF).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_runner.h"
#include "device/ethernet_frame.h"
#include "device/frame_codec.h"
#include "firmware/qemu_run_support.h"
#include "host/vde_plug.h"

namespace mcusplit::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const std::string kImage =
    std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images/fashion_test0_ankle-boot.pgm";
const std::vector<std::string> kFashionArgs = {"--mean", "0.2860", "--std", "0.3530", "--no-crop"};
constexpr int kDevices = 4;

// The Fashion-MNIST model planned on 4 teensy41, switched and star; its
// single-device output. Made once.
struct Fixture {
  std::unique_ptr<ScratchDir> dir;
  std::string mq;
  std::string switched;
  std::string star;
  std::string reference;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    x.dir = std::make_unique<ScratchDir>("qemu_ethernet");
    const std::string onnx = std::string(MCUSPLIT_SOURCE_DIR) + "/models/fashion_mnist_mbv2.onnx";
    x.mq = x.dir->file("fashion.mq");
    const CliResult q =
        run_cli("quantize '" + onnx + "' --calib random --samples 4 -o '" + x.mq + "'", *x.dir);
    EXPECT_EQ(q.exit_code, 0) << q.err;
    for (const char* topology : {"switched", "star"}) {
      const std::string plan = x.dir->file(std::string("fashion-4-") + topology + ".plan");
      const CliResult p = run_cli(
          "plan '" + x.mq + "' --devices 4xteensy41 --topology " + topology + " -o '" + plan + "'",
          *x.dir);
      EXPECT_EQ(p.exit_code, 0) << p.err;
      (std::string(topology) == "star" ? x.star : x.switched) = plan;
    }
    const std::string out = x.dir->file("reference.pb");
    const CliResult i = run_cli("infer '" + x.mq + "' --input '" + kImage +
                                    "' --mean 0.2860 --std 0.3530 --no-crop --output '" + out + "'",
                                *x.dir);
    EXPECT_EQ(i.exit_code, 0) << i.err;
    x.reference = read_text_file(out);
    return x;
  }();
  return f;
}

std::string quoted(const std::vector<std::string>& args) {
  std::string s;
  for (const std::string& a : args) s += " '" + a + "'";
  return s;
}

// `mcusplit run PLAN` of the Fashion-MNIST input on emulated MCUs over
// Ethernet (the Ethernet firmware), then `extra`.
std::vector<std::string> ethernet_run_args(const std::string& plan,
                                           const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"run", plan, "--input", kImage};
  args.insert(args.end(), kFashionArgs.begin(), kFashionArgs.end());
  for (const char* a : {"--targets", "qemu", "--link", "ethernet", "--firmware"}) args.push_back(a);
  args.push_back(env("MCUSPLIT_FW_DEVICE_ETH_ELF"));
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// `run PLAN --targets qemu --link ethernet EXTRA --json`: its JSON, after
// checking the output is bit-exact and every participant's measured figures
// equal the plan's.
json run_ethernet(const std::string& plan, const std::string& tag,
                  const std::vector<std::string>& extra) {
  Fixture& f = fixture();
  const std::string out = f.dir->file(tag + ".pb");
  std::vector<std::string> args = ethernet_run_args(plan, {"--json", "--output", out});
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = run_cli(quoted(args), *f.dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return json{};
  EXPECT_EQ(read_text_file(out), f.reference) << tag;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["targets"], "qemu");
  EXPECT_EQ(j["link"], "ethernet");
  EXPECT_EQ(j["devices"].size(), static_cast<size_t>(kDevices + 1));
  for (const json& d : j["devices"]) {
    const std::string name = d["name"];
    EXPECT_EQ(d["high_water_bytes"], d["arena_bytes"]) << tag << " " << name;
    EXPECT_EQ(d["bytes_sent"], d["planned_bytes_sent"]) << tag << " " << name;
    EXPECT_EQ(d["bytes_received"], d["planned_bytes_received"]) << tag << " " << name;
    EXPECT_EQ(d["data_frames_sent"], d["planned_data_frames_sent"]) << tag << " " << name;
    EXPECT_EQ(d["credit_frames_sent"], d["planned_credit_frames_sent"]) << tag << " " << name;
    if (d["coordinator"]) continue;
    // Span records and the summary came from the firmware.
    EXPECT_GT(d["compute_s"].get<double>(), 0.0) << tag << " " << name;
    EXPECT_TRUE(d.contains("retransmissions")) << tag << " " << name;
  }
  return j;
}

int64_t sum_of(const json& j, const char* key) {
  int64_t sum = 0;
  for (const json& d : j["devices"]) {
    if (d.contains(key)) sum += d[key].get<int64_t>();
  }
  return sum;
}

int64_t relayed(const json& j) {
  for (const json& d : j["devices"]) {
    if (d["coordinator"]) return d.value("frames_relayed", int64_t{0});
  }
  return -1;
}

TEST(QemuEthernet, FourMcusSwitchedAreBitExactWithOneAndMatchThePlan) {
  Fixture& f = fixture();
  ASSERT_FALSE(f.reference.empty());
  const json j = run_ethernet(f.switched, "switched", {"--repeat", "2", "--timeout", "20000"});
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["topology"], "switched");
  EXPECT_EQ(j["latency_s"].size(), 2u);
  // Peer to peer: nothing went through the coordinator but its own frames.
  EXPECT_EQ(relayed(j), 0);
}

TEST(QemuEthernet, FourMcusInTheStarRelayThroughTheCoordinator) {
  Fixture& f = fixture();
  const json j = run_ethernet(f.star, "star", {"--timeout", "20000"});
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["topology"], "star");
  EXPECT_GT(relayed(j), 0);
}

// With a cluster key every device holds it from reset and takes its image
// over the network only with the key's tag; the run says, in one line, that
// the frames on the emulated Ethernet are not tagged.
TEST(QemuEthernet, ImagesTaggedWithTheClusterKeyAreTakenOverTheNetwork) {
  Fixture& f = fixture();
  const std::string key = f.dir->file("cluster.key");
  std::filesystem::remove(key);
  ASSERT_EQ(run_cli("keygen -o '" + key + "'", *f.dir).exit_code, 0);
  const std::string out = f.dir->file("keyed.pb");
  const CliResult r = run_cli(
      quoted(ethernet_run_args(f.switched, {"--timeout", "20000", "--key-file", key, "--output",
                                            out})),
      *f.dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text_file(out), f.reference);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("authenticates the devices' images; their frames are not tagged"),
            std::string::npos)
      << r.err;
}

TEST(QemuEthernet, FivePercentLossIsRetransmittedAndTheRunStaysBitExact) {
  Fixture& f = fixture();
  const json j = run_ethernet(f.switched, "lossy", {"--loss", "0.05", "--timeout", "30000"});
  ASSERT_FALSE(j.is_null());
  // Some frames of the hundreds each run sends were lost and sent again
  // (the odds that none of them was lost are below 1e-4).
  EXPECT_GT(sum_of(j, "retransmissions"), 0) << j.dump();
}

// Random frames into the switch while a run goes on: for the devices' MACs
// (the switch floods frames for unknown MACs too), of another EtherType, from
// an unknown MAC, too short, and of the protocol's EtherType with noise.
TEST(QemuEthernet, RandomFramesOnTheWireAreDroppedAndCounted) {
  Fixture& f = fixture();
  // The run's switch lives in a private directory under TMPDIR: this test's.
  const std::string tmp = f.dir->file("tmp-garbage");
  std::filesystem::create_directories(tmp);
  // Each firmware's last words (its drop counts) kept there too.
  const std::string said = f.dir->file("said-garbage");
  std::filesystem::create_directories(said);
  ::setenv("TMPDIR", tmp.c_str(), 1);
  ::setenv("MCUSPLIT_QEMU_OUTPUT", said.c_str(), 1);
  const std::string out = f.dir->file("garbage.pb");
  Background run = start_run(
      ethernet_run_args(f.switched, {"--repeat", "3", "--timeout", "20000", "--output", out}),
      f.dir->file("garbage.err"));
  ::unsetenv("TMPDIR");
  ::unsetenv("MCUSPLIT_QEMU_OUTPUT");
  ASSERT_GT(run.pid, 0);
  // Find the switch (its control socket) and plug into it.
  std::string switch_path;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (switch_path.empty() && Clock::now() < deadline) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(tmp)) {
      if (e.path().filename() == "ctl") switch_path = e.path().parent_path().string();
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_FALSE(switch_path.empty()) << read_text_file(run.err_path);
  host::VdePlug plug(switch_path, "garbage");
  std::mt19937 rng(7);
  std::vector<device::MacAddress> macs(kDevices);
  for (int i = 0; i < kDevices; ++i) {
    const std::string text = "02:6d:73:00:01:0" + std::to_string(i);
    ASSERT_TRUE(device::parse_mac(text.c_str(), text.size(), &macs[static_cast<size_t>(i)]));
  }
  device::MacAddress stranger;
  device::parse_mac("02:00:00:00:00:42", 17, &stranger);
  int sent = 0;
  int status = 0;
  while (::waitpid(run.pid, &status, WNOHANG) == 0) {
    std::vector<uint8_t> frame(60 + rng() % 1400);
    for (uint8_t& b : frame) b = static_cast<uint8_t>(rng());
    const device::MacAddress& to = macs[rng() % kDevices];
    device::encode_ethernet_header(to, stranger, frame.data());
    switch (sent % 3) {
      case 0:  // another EtherType
        frame[12] = 0x08;
        frame[13] = 0x00;
        break;
      case 1:  // the protocol's, from a MAC that is no participant's
        break;
      case 2:  // too short for a frame header
        frame.resize(device::kEthernetHeaderBytes + 20);
        break;
    }
    plug.send(frame.data(), frame.size());
    ++sent;
    std::this_thread::sleep_for(milliseconds(2));
  }
  const std::string err = read_text_file(run.err_path);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
  EXPECT_EQ(read_text_file(out), f.reference);
  EXPECT_GT(sent, 100);
  // What reached the devices' software was dropped and counted by reason
  // (the controller's FIFO may drop some before that when it is full).
  int64_t type = 0, unknown = 0, too_short = 0;
  for (int i = 0; i < kDevices; ++i) {
    const std::string text = read_text_file(said + "/teensy41-" + std::to_string(i) + ".log");
    const auto number = [&](const std::string& key) -> int64_t {
      const size_t at = text.find(" " + key + "=");
      return at == std::string::npos ? -1 : std::stoll(text.substr(at + key.size() + 2));
    };
    ASSERT_GE(number("dropped_type"), 0) << text;
    type += number("dropped_type");
    unknown += number("dropped_unknown_mac");
    too_short += number("dropped_short");
  }
  EXPECT_GT(type, 0);
  EXPECT_GT(unknown, 0);
  EXPECT_GT(too_short, 0);
}

// `run --link ethernet` of the 4-device switched plan in the background,
// with `extra` options, for the failure tests.
Background start_ethernet_run(const std::string& tag, const std::vector<std::string>& extra) {
  Fixture& f = fixture();
  std::vector<std::string> args = ethernet_run_args(f.switched, {"--repeat", "1000"});
  args.insert(args.end(), extra.begin(), extra.end());
  return start_run(args, f.dir->file(tag + ".err"));
}

// A QEMU killed mid-inference: named (device and where the run was) within
// the timeout, and nothing of the run is left.
TEST(QemuEthernet, AKilledDeviceIsNamedWithinTheTimeoutAndNothingIsLeft) {
  constexpr int kTimeoutMs = 5000;
  Background run = start_ethernet_run("killed", {"--timeout", std::to_string(kTimeoutMs)});
  ASSERT_GT(run.pid, 0);
  pid_t victim = -1;
  std::vector<pid_t> helpers;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (victim < 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    for (pid_t p : processes_with("mac=02:6d:73:00:01:01")) {
      if (parent_of(p) == run.pid) victim = p;
    }
  }
  ASSERT_GT(victim, 0) << read_text_file(run.err_path);
  for (const char* program : {"vde_switch", "qemu"}) {
    for (pid_t p : processes_with("", program)) {
      if (parent_of(p) == run.pid && p != victim) helpers.push_back(p);
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // well into the inferences
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  const auto killed = Clock::now();
  const int status = wait_for(run, milliseconds(3 * kTimeoutMs + 10000));
  const auto took = Clock::now() - killed;
  const std::string err = read_text_file(run.err_path);
  ASSERT_NE(status, -1) << "mcusplit run did not end (or died of a signal) after its device was "
                           "killed: "
                        << err;
  EXPECT_EQ(status, 1) << err;
  EXPECT_LT(took, milliseconds(3 * kTimeoutMs + 5000)) << err;
  EXPECT_NE(err.find("device 'teensy41-1'"), std::string::npos) << err;
  EXPECT_EQ(count_lines(err), 1) << err;
  for (pid_t p : helpers) {
    EXPECT_NE(::kill(p, 0), 0) << "process " << p << " outlived the run";
  }
}

// The wirefilter of one device's link (as if its cable were cut) during a
// run: the run fails within the timeout naming that device's link.
TEST(QemuEthernet, ACutLinkIsReportedAsThatDevicesLink) {
  constexpr int kTimeoutMs = 5000;
  Background run =
      start_ethernet_run("cut", {"--loss", "0.01", "--timeout", std::to_string(kTimeoutMs)});
  ASSERT_GT(run.pid, 0);
  // The wirefilters of this run: children of its mcusplit.
  pid_t victim = -1;
  std::vector<pid_t> helpers;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (victim < 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    for (pid_t p : processes_with("wirefilter", "wirefilter")) {
      if (parent_of(p) != run.pid) continue;
      if (read_text_file("/proc/" + std::to_string(p) + "/cmdline").find("device2") !=
          std::string::npos) {
        victim = p;
      }
    }
  }
  ASSERT_GT(victim, 0) << read_text_file(run.err_path);
  for (const char* program : {"wirefilter", "vde_switch", "qemu"}) {
    for (pid_t p : processes_with("", program)) {
      if (parent_of(p) == run.pid) helpers.push_back(p);
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(4));  // well into the inferences
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  const auto killed = Clock::now();
  const int status = wait_for(run, milliseconds(kTimeoutMs + 15000));
  const auto took = Clock::now() - killed;
  const std::string err = read_text_file(run.err_path);
  ASSERT_NE(status, -1) << "mcusplit run did not end (or died of a signal) after a link was cut: "
                        << err;
  EXPECT_EQ(status, 1) << err;
  EXPECT_LT(took, milliseconds(2 * kTimeoutMs + 5000)) << err;
  EXPECT_NE(err.find("teensy41-2"), std::string::npos) << err;
  EXPECT_NE(err.find("link"), std::string::npos) << err;
  for (pid_t p : helpers) {
    EXPECT_NE(::kill(p, 0), 0) << "process " << p << " outlived the run";
  }
}


// One cluster of four cores (docs/firmware.md, "Boards"): the Fashion-MNIST
// model planned on two devices of each emulated board, each booted on its
// own board's Ethernet firmware, under -icount: bit-exact, every figure the
// plan's, and every device's instructions within 10% of what the plan
// predicts from the measured cores' kernel costs (plan/core_costs.h).
TEST(QemuEthernet, MixedCoresRunBitExactAndTakeThePredictedInstructions) {
  Fixture& f = fixture();
  const std::string plan = f.dir->file("fashion-mixed.plan");
  const CliResult p = run_cli("plan '" + f.mq + "' --devices 2xan385,2xan386,2xan500,2xan505 -o '" +
                                  plan + "'",
                              *f.dir);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::string out = f.dir->file("mixed.pb");
  std::vector<std::string> args = {"run", plan, "--input", kImage};
  args.insert(args.end(), kFashionArgs.begin(), kFashionArgs.end());
  for (const char* a : {"--targets", "qemu", "--link", "ethernet", "--icount", "--json", "--output"}) {
    args.push_back(a);
  }
  args.push_back(out);
  const CliResult r = run_cli(quoted(args), *f.dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text_file(out), f.reference);
  const json j = json::parse(r.out);
  std::map<std::string, int> boards;
  for (const json& d : j["devices"]) {
    const std::string name = d["name"];
    EXPECT_EQ(d["high_water_bytes"], d["arena_bytes"]) << name;
    EXPECT_EQ(d["bytes_sent"], d["planned_bytes_sent"]) << name;
    EXPECT_EQ(d["bytes_received"], d["planned_bytes_received"]) << name;
    if (d["coordinator"]) continue;
    ++boards[d["board"].get<std::string>()];
    const double measured = d["instructions"].get<double>();
    const double predicted = d["predicted_instructions"].get<double>();
    ASSERT_GT(predicted, 0) << name;
    EXPECT_LT(std::abs(measured / predicted - 1), 0.10)
        << name << ": " << measured << " instructions, the plan predicted " << predicted;
  }
  EXPECT_EQ(boards, (std::map<std::string, int>{{"an385", 2}, {"an386", 2}, {"an500", 2}, {"an505", 2}}));
}

}  // namespace
}  // namespace mcusplit::testing
