// The device firmware (firmware/device_main.cpp) on emulated Cortex-M7s
// (QEMU mps2-an500), end to end:
//   - `mcusplit run --targets qemu` on 2 devices is bit-exact with `mcusplit
//     infer` and every device's measured high water, bytes and frames equal
//     the plan's (two inferences, so credit for the next one arriving before
//     a device's Start is exercised);
//   - TFLM's person detection model, imported from its .tflite, runs on 2
//     devices bit-exact with one for both of its test images;
//   - a small MobileNetV2 runs on 2 emulated MCUs whose RAM is 32 KiB,
//     bit-exact with one device;
//   - both firmwares' static RAM is exactly their arena plus the runtime's
//     share the planner charges (core/device_runtime_ram.h), and the stack
//     stays within its tested bound (below its reserve) wherever a firmware
//     exits;
//   - a Ping of a whole frame's payload during a run is echoed intact (the
//     firmware keeps it in the runtime's frame buffer) and the run stays
//     bit-exact;
//   - a firmware whose arena is smaller than the plan needs refuses the plan
//     at boot, with a message naming the device and the bytes;
//   - a QEMU killed mid-run is named by the coordinator within the timeout,
//     and no QEMU is left behind;
//   - a device with no image or a corrupted one refuses the coordinator's
//     greeting with an Error frame and exits with code 1; garbage on the
//     serial link is skipped both ways (the firmware's banner by the host,
//     the host's noise by the firmware), counted exactly.
// Run by tests/firmware/run_device_tests.sh, which sets
// MCUSPLIT_FW_DEVICE_ELF and MCUSPLIT_FW_DEVICE_32K_ELF (the device firmwares
// the main build made: 256 KiB and 32 KiB of RAM).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_runner.h"
#include "firmware/qemu_run_support.h"
#include "core/device_runtime_ram.h"
#include "device/frame_codec.h"
#include "device/protocol.h"
#include "host/device_image_writer.h"
#include "host/cluster_key.h"
#include "host/device_slice.h"
#include "host/provision_message.h"
#include "host/qemu_launcher.h"
#include "host/socket_transport.h"
#include "host/stats_message.h"
#include "model/file_io.h"
#include "plan/plan_file.h"
#include "quant/int8_executor.h"
#include "quant/mq_format.h"
#include "support/required_data.h"

namespace mcusplit::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const std::string kImage =
    std::string(MCUSPLIT_SOURCE_DIR) + "/tests/data/images/fashion_test0_ankle-boot.pgm";
const std::string kFashionArgs = " --mean 0.2860 --std 0.3530 --no-crop";
constexpr int64_t kSmallRamBytes = 32768;  // mcusplit_fw_device_32k's RAM region

// The device firmware's stack, as it reports it when it exits (boot,
// greeting, inferences, shutdown or a refusal), must stay within this bound:
// the deepest measured is 2,296 bytes (a run with a cluster key); the reserve the runtime's share
// holds for it keeps another 512 for what these tests do not reach (core/device_runtime_ram.h,
// docs/firmware.md "Stack").
constexpr int64_t kDeviceStackBoundBytes = 2560;
static_assert(kDeviceStackBoundBytes <= core::kDeviceStackReserveBytes);

// The number after `key=` in `text` (-1 if there is none).
int64_t field(const std::string& text, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("[ ,]" + key + "=([0-9]+)"))) return -1;
  return std::stoll(m[1].str());
}

// Every stack depth a firmware reported in `said` (its QEMU output) is
// within the bound; returns how many it reported.
int expect_stack_within_bound(const std::string& said, const std::string& who) {
  int reported = 0;
  const std::regex depth("stack_high_water=([0-9]+)");
  for (auto it = std::sregex_iterator(said.begin(), said.end(), depth);
       it != std::sregex_iterator(); ++it) {
    const int64_t stack = std::stoll((*it)[1].str());
    EXPECT_GT(stack, 0) << who;
    EXPECT_LE(stack, kDeviceStackBoundBytes) << who << ": " << said;
    ++reported;
  }
  return reported;
}

// The Fashion-MNIST model (random calibration: the run must be bit-exact
// with one device, whatever the weights), planned on 2 teensy41 in the star
// topology; its single-device output; the plan's JSON summary. Made once.
struct Fixture {
  std::unique_ptr<ScratchDir> dir;
  std::string mq;
  std::string plan;
  std::string reference;  // infer --output bytes
  json summary;           // plan --json
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    x.dir = std::make_unique<ScratchDir>("qemu_device");
    const std::string onnx = std::string(MCUSPLIT_SOURCE_DIR) + "/models/fashion_mnist_mbv2.onnx";
    x.mq = x.dir->file("fashion.mq");
    const CliResult q =
        run_cli("quantize '" + onnx + "' --calib random --samples 4 -o '" + x.mq + "'", *x.dir);
    EXPECT_EQ(q.exit_code, 0) << q.err;
    x.plan = x.dir->file("fashion-2.plan");
    const CliResult p = run_cli(
        "plan '" + x.mq + "' --devices 2xteensy41 --topology star --json -o '" + x.plan + "'",
        *x.dir);
    EXPECT_EQ(p.exit_code, 0) << p.err;
    if (p.exit_code == 0) x.summary = json::parse(p.out);
    const std::string out = x.dir->file("reference.pb");
    const CliResult i = run_cli(
        "infer '" + x.mq + "' --input '" + kImage + "'" + kFashionArgs + " --output '" + out + "'",
        *x.dir);
    EXPECT_EQ(i.exit_code, 0) << i.err;
    x.reference = read_text_file(out);
    return x;
  }();
  return f;
}

TEST(QemuRun, TwoDevicesAreBitExactWithOneAndMatchThePlan) {
  Fixture& f = fixture();
  ASSERT_FALSE(f.reference.empty());
  const std::string out = f.dir->file("split.pb");
  const CliResult r = run_cli("run '" + f.plan + "' --input '" + kImage + "'" + kFashionArgs +
                                  " --targets qemu --firmware '" + env("MCUSPLIT_FW_DEVICE_ELF") +
                                  "' --repeat 2 --timeout 20000 --json --output '" + out + "'",
                              *f.dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text_file(out), f.reference);
  const json j = json::parse(r.out);
  EXPECT_EQ(j["targets"], "qemu");
  EXPECT_EQ(j["topology"], "star");
  EXPECT_EQ(j["latency_s"].size(), 2u);
  ASSERT_EQ(j["devices"].size(), 3u);
  int64_t relayed = 0;
  for (size_t i = 0; i < 3; ++i) {
    const json& d = j["devices"][i];
    const std::string name = d["name"];
    EXPECT_EQ(d["high_water_bytes"], d["arena_bytes"]) << name;
    EXPECT_EQ(d["arena_bytes"], f.summary["devices"][i]["arena_bytes"]) << name;
    EXPECT_EQ(d["bytes_sent"], d["planned_bytes_sent"]) << name;
    EXPECT_EQ(d["bytes_received"], d["planned_bytes_received"]) << name;
    EXPECT_EQ(d["data_frames_sent"], d["planned_data_frames_sent"]) << name;
    EXPECT_EQ(d["credit_frames_sent"], d["planned_credit_frames_sent"]) << name;
    if (d["coordinator"]) {
      relayed = d["frames_relayed"];
      continue;
    }
    // Span records and the summary came from the firmware.
    EXPECT_GT(d["stats_frames_sent"].get<int>(), 1) << name;
    EXPECT_GT(d["compute_s"].get<double>(), 0.0) << name;
    EXPECT_FALSE(d["layers"].empty()) << name;
    // The firmware's boot banner, skipped by the serial link.
    EXPECT_GT(d["serial_bytes_dropped"].get<int>(), 40) << name;
    // Data, Credit, Result, Stats: FramesSent counts every one.
    EXPECT_GT(d["frames_sent"].get<int>(),
              d["data_frames_sent"].get<int>() + d["credit_frames_sent"].get<int>())
        << name;
  }
  // Star: every device-to-device frame went through the coordinator.
  EXPECT_GT(relayed, 0);
}

// TFLM's person detection model (../shared/models), imported from its
// .tflite, split over 2 emulated MCUs: bit-exact with one device for both
// of its test images, and the scores say what TFLM's own test says.
TEST(QemuRun, PersonDetectOnTwoEmulatedMcusIsBitExactWithOne) {
  const std::string models = SHARED_MODELS_DIR;
  const std::string model = models + "/person_detect.tflite";
  MCUSPLIT_REQUIRE_DATA(std::filesystem::exists(model), "../shared/models (person_detect.tflite)");
  ScratchDir dir("qemu_person_detect");
  const std::string plan = dir.file("person-2.plan");
  const CliResult p =
      run_cli("plan '" + model + "' --devices 2xteensy41 --topology star -o '" + plan + "'", dir);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  for (const std::string image : {"person", "no_person"}) {
    SCOPED_TRACE(image);
    const std::string input = models + "/" + image + "_int8.pb";
    const std::string single = dir.file(image + "-single.pb");
    const CliResult i =
        run_cli("infer '" + model + "' --input '" + input + "' --output '" + single + "'", dir);
    ASSERT_EQ(i.exit_code, 0) << i.err;
    const std::string split = dir.file(image + "-split.pb");
    const CliResult r = run_cli(
        "run '" + plan + "' --input '" + input + "' --targets qemu --firmware '" +
            env("MCUSPLIT_FW_DEVICE_ELF") + "' --timeout 60000 --json --output '" + split + "'",
        dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string a = read_text_file(single);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(read_text_file(split), a);
    // The last two bytes are the int8 scores: no person, person.
    const auto no_person = static_cast<int8_t>(a[a.size() - 2]);
    const auto person = static_cast<int8_t>(a[a.size() - 1]);
    if (image == "person") {
      EXPECT_GT(person, no_person);
    } else {
      EXPECT_LT(person, no_person);
    }
    for (const json& d : json::parse(r.out)["devices"]) {
      EXPECT_EQ(d["high_water_bytes"], d["arena_bytes"]) << d["name"];
      EXPECT_EQ(d["bytes_sent"], d["planned_bytes_sent"]) << d["name"];
    }
  }
}

// The device firmware's stack over a whole run (boot, greeting, two
// inferences, shutdown), as it reports it when it stops: the kernels keep
// their working buffers in caller-owned scratch and the session its error
// text in the frame buffer, so the stack stays within its bound.
TEST(QemuRun, TheDeviceStackStaysWithinItsBound) {
  Fixture& f = fixture();
  // With a cluster key too: every frame read and sent then runs the HMAC.
  const std::string key = f.dir->file("stack.key");
  std::filesystem::remove(key);
  ASSERT_EQ(run_cli("keygen -o '" + key + "'", *f.dir).exit_code, 0);
  for (const std::string& keying : {std::string(), " --key-file '" + key + "'"}) {
    const std::string logs = f.dir->file(keying.empty() ? "qemu-output" : "qemu-output-keyed");
    std::filesystem::create_directories(logs);
    ASSERT_EQ(::setenv("MCUSPLIT_QEMU_OUTPUT", logs.c_str(), 1), 0);
    const CliResult r = run_cli("run '" + f.plan + "' --input '" + kImage + "'" + kFashionArgs +
                                    " --targets qemu --firmware '" + env("MCUSPLIT_FW_DEVICE_ELF") +
                                    "' --repeat 2 --timeout 20000" + keying,
                                *f.dir);
    ::unsetenv("MCUSPLIT_QEMU_OUTPUT");
    ASSERT_EQ(r.exit_code, 0) << keying << ": " << r.err;
    for (const char* device : {"teensy41-0", "teensy41-1"}) {
      const std::string said = read_text_file(logs + "/" + device + ".log");
      EXPECT_TRUE(std::regex_search(said, std::regex("inferences=2 .*stack_high_water=[0-9]+")))
          << device << ": " << said;
      EXPECT_EQ(expect_stack_within_bound(said, device), 1) << said;
      std::printf("%s%s: %s\n", device, keying.empty() ? "" : " (keyed)",
                  said.substr(said.rfind("stack_high_water")).c_str());
    }
  }
}

// A small MobileNetV2 (width 0.35, 48x48, 10 classes) planned on 2 teensy41
// with the arena a 32 KiB MCU has beside the runtime's share, run on 2
// emulated MCUs whose RAM region is 32 KiB: bit-exact with one device, each
// arena's high water as planned and within the firmware's, the static RAM
// exactly the 32 KiB, the stack within its reserve. `--ram` is the whole
// RAM: the planner charges the runtime's share on top of the arena.
TEST(QemuRun, ASmallModelRunsOnTwoMcusWith32KiBOfRam) {
  const std::string firmware = env("MCUSPLIT_FW_DEVICE_32K_ELF");
  ASSERT_FALSE(firmware.empty());
  const host::FirmwareLayout layout = host::read_firmware_layout(firmware);
  ASSERT_EQ(layout.ram_bytes, kSmallRamBytes);
  ASSERT_EQ(layout.arena_bytes, kSmallRamBytes - core::kDeviceRuntimeRamBytes);
  ScratchDir dir("qemu_32k");
  const std::string onnx = dir.file("small.onnx");
  const CliResult z =
      run_cli("zoo mobilenetv2 --width 0.35 --resolution 48 --classes 10 -o '" + onnx + "'", dir);
  ASSERT_EQ(z.exit_code, 0) << z.err;
  const std::string mq = dir.file("small.mq");
  const CliResult q =
      run_cli("quantize '" + onnx + "' --calib random --samples 2 -o '" + mq + "'", dir);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const std::string plan = dir.file("small-2.plan");
  const CliResult p = run_cli("plan '" + mq + "' --devices 2xteensy41 --topology star --ram " +
                                  std::to_string(layout.ram_bytes) + " --json -o '" + plan + "'",
                              dir);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const json summary = json::parse(p.out);
  const std::string single = dir.file("single.pb");
  const CliResult i =
      run_cli("infer '" + mq + "' --input '" + kImage + "' --output '" + single + "'", dir);
  ASSERT_EQ(i.exit_code, 0) << i.err;

  const std::string logs = dir.file("qemu-output");
  std::filesystem::create_directories(logs);
  ASSERT_EQ(::setenv("MCUSPLIT_QEMU_OUTPUT", logs.c_str(), 1), 0);
  const std::string split = dir.file("split.pb");
  const CliResult r =
      run_cli("run '" + plan + "' --input '" + kImage + "' --targets qemu " + "--firmware '" +
                  firmware + "' --repeat 2 --timeout 30000 --json --output '" + split + "'",
              dir);
  ::unsetenv("MCUSPLIT_QEMU_OUTPUT");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string reference = read_text_file(single);
  ASSERT_FALSE(reference.empty());
  EXPECT_EQ(read_text_file(split), reference);
  const json j = json::parse(r.out);
  ASSERT_EQ(j["devices"].size(), 3u);
  for (size_t d = 0; d < 2; ++d) {
    const json& device = j["devices"][d];
    const std::string name = device["name"];
    EXPECT_EQ(device["high_water_bytes"], device["arena_bytes"]) << name;
    EXPECT_EQ(device["arena_bytes"], summary["devices"][d]["arena_bytes"]) << name;
    EXPECT_LE(device["arena_bytes"].get<int64_t>(), layout.arena_bytes) << name;
    EXPECT_EQ(device["bytes_sent"], device["planned_bytes_sent"]) << name;
    const std::string said = read_text_file(logs + "/" + name + ".log");
    EXPECT_EQ(field(said, "ram_budget"), kSmallRamBytes) << said;
    EXPECT_EQ(field(said, "static_ram"), kSmallRamBytes) << said;
    EXPECT_EQ(field(said, "arena"), layout.arena_bytes) << said;
    EXPECT_NE(said.find("inferences=2 "), std::string::npos) << said;
    EXPECT_EQ(expect_stack_within_bound(said, name), 1) << said;
  }
}

// The same small MobileNetV2 planned for the least RAM within 20 KiB: its
// depthwise layers compute in place (their output over their input), on
// Cortex-M7s with the DSP kernels; bit-exact, each arena's high water as
// planned.
TEST(QemuRun, DepthwiseInPlaceRunsBitExactOnTwoMcus) {
  const std::string firmware = env("MCUSPLIT_FW_DEVICE_32K_ELF");
  ASSERT_FALSE(firmware.empty());
  ScratchDir dir("qemu_in_place");
  const std::string onnx = dir.file("small.onnx");
  ASSERT_EQ(
      run_cli("zoo mobilenetv2 --width 0.35 --resolution 48 --classes 10 -o '" + onnx + "'", dir)
          .exit_code,
      0);
  const std::string mq = dir.file("small.mq");
  ASSERT_EQ(run_cli("quantize '" + onnx + "' --calib random --samples 2 -o '" + mq + "'", dir)
                .exit_code,
            0);
  const std::string plan = dir.file("in-place.plan");
  const CliResult p = run_cli("plan '" + mq +
                                  "' --devices 2xteensy41 --topology star --ram 20KiB "
                                  "--objective memory --no-count-search --json -o '" +
                                  plan + "'",
                              dir);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const json summary = json::parse(p.out);
  const CliResult dump = run_cli("plan --dump '" + plan + "'", dir);
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  int in_place = 0;
  const json dumped = json::parse(dump.out);
  for (const json& layer : dumped["layers"]) in_place += layer["in_place"].get<bool>() ? 1 : 0;
  EXPECT_GT(in_place, 0);
  const std::string single = dir.file("single.pb");
  ASSERT_EQ(run_cli("infer '" + mq + "' --input '" + kImage + "' --output '" + single + "'", dir)
                .exit_code,
            0);
  const std::string split = dir.file("split.pb");
  const CliResult r =
      run_cli("run '" + plan + "' --input '" + kImage + "' --targets qemu --firmware '" +
                  firmware + "' --timeout 30000 --json --output '" + split + "'",
              dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text_file(split), read_text_file(single));
  const json j = json::parse(r.out);
  ASSERT_EQ(j["devices"].size(), 3u);
  for (size_t d = 0; d < 2; ++d) {
    const json& device = j["devices"][d];
    EXPECT_EQ(device["high_water_bytes"], device["arena_bytes"]) << device["name"];
    EXPECT_EQ(device["arena_bytes"], summary["devices"][d]["arena_bytes"]) << device["name"];
  }
}

// Under -icount the compute clock records count guest instructions: the
// same run twice gives the same count for every layer on every device, the
// layers are the ones the plan gives each device, and the output stays
// bit-exact.
TEST(QemuRun, IcountGivesEachLayerTheSameInstructionsEveryRun) {
  Fixture& f = fixture();
  ASSERT_FALSE(f.reference.empty());
  const plan::PlanFile file = plan::parse_plan(model::read_file_bytes(f.plan), f.plan);
  std::vector<json> runs;
  for (int run = 0; run < 2; ++run) {
    const std::string out = f.dir->file("icount" + std::to_string(run) + ".pb");
    const CliResult r =
        run_cli("run '" + f.plan + "' --input '" + kImage + "'" + kFashionArgs +
                    " --targets qemu --icount --firmware '" + env("MCUSPLIT_FW_DEVICE_ELF") +
                    "' --timeout 20000 --json --output '" + out + "'",
                *f.dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_text_file(out), f.reference);
    runs.push_back(json::parse(r.out));
  }
  EXPECT_EQ(runs[0]["icount_shift"], 7);
  for (size_t i = 0; i + 1 < runs[0]["devices"].size(); ++i) {
    const json& d = runs[0]["devices"][i];
    const std::string name = d["name"];
    std::set<int> planned_steps;
    for (const plan::PlanOp& op : file.plan.participants[i].ops) {
      if (op.kind == plan::OpKind::Compute) planned_steps.insert(op.step);
    }
    std::set<int> counted_steps;
    int64_t sum = 0;
    for (const json& layer : d["layers"]) {
      if (!layer.contains("instructions")) continue;
      counted_steps.insert(layer["step"].get<int>());
      const int64_t n = layer["instructions"];
      EXPECT_GT(n, 0) << name << " " << layer["layer"];
      sum += n;
    }
    EXPECT_EQ(counted_steps, planned_steps) << name;
    EXPECT_EQ(d["instructions"].get<int64_t>(), sum) << name;
    ASSERT_EQ(d["layers"].size(), runs[1]["devices"][i]["layers"].size()) << name;
    for (size_t k = 0; k < d["layers"].size(); ++k) {
      const json& again = runs[1]["devices"][i]["layers"][k];
      EXPECT_EQ(d["layers"][k].value("instructions", int64_t{-1}),
                again.value("instructions", int64_t{-1}))
          << name << " " << again["layer"];
    }
  }
}

// --provision link: the QEMUs boot with empty provisioning regions and the
// coordinator sends each device its image over its UART.
TEST(QemuRun, ImagesProvisionedOverTheLinkRunBitExact) {
  Fixture& f = fixture();
  ASSERT_FALSE(f.reference.empty());
  const std::string out = f.dir->file("link.pb");
  const CliResult r =
      run_cli("run '" + f.plan + "' --input '" + kImage + "'" + kFashionArgs +
                  " --targets qemu --provision link --firmware '" + env("MCUSPLIT_FW_DEVICE_ELF") +
                  "' --timeout 60000 --json --output '" + out + "'",
              *f.dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text_file(out), f.reference);
  const json j = json::parse(r.out);
  for (const json& d : j["devices"]) {
    EXPECT_EQ(d["high_water_bytes"], d["arena_bytes"]) << d["name"];
    EXPECT_EQ(d["bytes_sent"], d["planned_bytes_sent"]) << d["name"];
  }
}

// `run --key-file` on emulated MCUs: every device holds the key from reset
// (its key slot), takes only images with the key's tag, loaded by QEMU or
// sent over the link, and every frame on the UARTs carries a tag: the relay
// forwards exactly 16 bytes more per frame than without the key. All runs
// bit-exact.
TEST(QemuRun, AClusterKeyTagsEveryFrameAndImageOfEmulatedDevices) {
  Fixture& f = fixture();
  ASSERT_FALSE(f.reference.empty());
  const std::string key = f.dir->file("run.key");
  std::filesystem::remove(key);
  ASSERT_EQ(run_cli("keygen -o '" + key + "'", *f.dir).exit_code, 0);
  json relayed[2];  // plain, keyed: the coordinator's figures
  for (const char* provision : {"loader", "link"}) {
    for (const bool keyed : {false, true}) {
      if (!keyed && std::string(provision) == "link") continue;  // ImagesProvisionedOverTheLink...
      const std::string out =
          f.dir->file(std::string(keyed ? "keyed-" : "plain-") + provision + ".pb");
      const CliResult r = run_cli("run '" + f.plan + "' --input '" + kImage + "'" + kFashionArgs +
                                      " --targets qemu --provision " + provision + " --firmware '" +
                                      env("MCUSPLIT_FW_DEVICE_ELF") + "'" +
                                      (keyed ? " --key-file '" + key + "'" : std::string()) +
                                      " --timeout 60000 --json --output '" + out + "'",
                                  *f.dir);
      ASSERT_EQ(r.exit_code, 0) << provision << ": " << r.err;
      EXPECT_EQ(read_text_file(out), f.reference) << provision;
      if (std::string(provision) != "loader") continue;
      const json j = json::parse(r.out);
      for (const json& d : j["devices"]) {
        if (d["coordinator"]) relayed[keyed ? 1 : 0] = d;
      }
    }
  }
  const int64_t frames = relayed[0]["frames_relayed"];
  EXPECT_GT(frames, 0);
  EXPECT_EQ(relayed[1]["frames_relayed"], frames);
  EXPECT_EQ(relayed[1]["bytes_relayed"].get<int64_t>() - relayed[0]["bytes_relayed"].get<int64_t>(),
            16 * frames);
}

TEST(QemuRun, AFirmwareWithTooSmallAnArenaRefusesThePlanAtBoot) {
  Fixture& f = fixture();
  const std::string small = env("MCUSPLIT_FW_DEVICE_32K_ELF");
  ASSERT_FALSE(small.empty());
  const int64_t has = kSmallRamBytes - core::kDeviceRuntimeRamBytes;
  const auto start = Clock::now();
  const CliResult r = run_cli("run '" + f.plan + "' --input '" + kImage + "'" + kFashionArgs +
                                  " --targets qemu --firmware '" + small + "' --timeout 20000",
                              *f.dir);
  const auto took = Clock::now() - start;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  // Both devices refuse, whichever is read first; the line names both.
  for (int d = 0; d < 2; ++d) {
    const int64_t needs = f.summary["devices"][d]["arena_bytes"];
    ASSERT_GT(needs, has);
    EXPECT_NE(r.err.find("device 'teensy41-" + std::to_string(d) +
                         "' refused the plan: its arena needs " + std::to_string(needs) +
                         " bytes, this firmware has " + std::to_string(has) +
                         " (MCUSPLIT_FW_RAM_BYTES minus kDeviceRuntimeRamBytes)"),
              std::string::npos)
        << r.err;
  }
  EXPECT_LT(took, std::chrono::seconds(15));
  EXPECT_TRUE(processes_with(small).empty());
}

// A child `mcusplit run` whose stderr goes to a file.
TEST(QemuRun, AKilledDeviceIsNamedWithinTheTimeoutAndNoQemuIsLeft) {
  Fixture& f = fixture();
  constexpr int kTimeoutMs = 5000;
  Background run =
      start_run({"run", f.plan, "--input", kImage, "--mean", "0.2860", "--std", "0.3530",
                 "--no-crop", "--targets", "qemu", "--firmware", env("MCUSPLIT_FW_DEVICE_ELF"),
                 "--repeat", "1000", "--timeout", std::to_string(kTimeoutMs)},
                f.dir->file("killed.err"));
  ASSERT_GT(run.pid, 0);
  // The QEMUs of this run: their images sit in its own temporary directory.
  std::vector<pid_t> qemus;
  pid_t victim = -1;
  const auto boot_deadline = Clock::now() + std::chrono::seconds(20);
  while (victim < 0 && Clock::now() < boot_deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    for (pid_t p : processes_with("-device1.img")) {
      if (parent_of(p) == run.pid) victim = p;  // this run's child
    }
  }
  ASSERT_GT(victim, 0) << read_text_file(run.err_path);
  for (pid_t p : processes_with("-device0.img")) qemus.push_back(p);
  qemus.push_back(victim);
  // Well into the run (the inferences take about 2 s each), then kill it.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  const auto killed = Clock::now();
  const int status = wait_for(run, milliseconds(kTimeoutMs + 10000));
  const auto took = Clock::now() - killed;
  const std::string err = read_text_file(run.err_path);
  ASSERT_NE(status, -1) << "mcusplit run did not end (or died of a signal) after its device was "
                           "killed: "
                        << err;
  EXPECT_EQ(status, 1) << err;
  EXPECT_LT(took, milliseconds(kTimeoutMs + 5000)) << err;
  EXPECT_NE(err.find("device 'teensy41-1' at 127.0.0.1:"), std::string::npos) << err;
  EXPECT_NE(err.find("stopped answering"), std::string::npos) << err;
  EXPECT_EQ(count_lines(err), 1) << err;
  // Reaped by mcusplit before it exited: not even a zombie is left.
  for (pid_t p : qemus) {
    EXPECT_NE(::kill(p, 0), 0) << "QEMU " << p << " outlived the run";
  }
}

// ---- one emulated device driven through the host library ----

class OneDevice {
 public:
  // This end of the link is the coordinator, participant `coordinator`.
  OneDevice(const std::string& image, const std::string& garbage,
            const std::string& firmware = env("MCUSPLIT_FW_DEVICE_ELF"), int coordinator = 2,
            const std::string& key_slot = "", const host::ClusterKey* link_key = nullptr) {
    host::QemuOptions o;
    o.firmware = firmware;
    if (!key_slot.empty()) o.key_slot_files = {key_slot};
    if (link_key != nullptr) link_.set_key(*link_key);
    keyed_link_ = link_key != nullptr;
    qemu_ = std::make_unique<host::QemuDevices>(std::vector<std::string>{image}, o);
    link_.set_self(coordinator);
    link_.set_plan_hash(0, 0);
    link_.set_serial(0, true);
    link_.set_peer_name(0, "teensy41-0");
    host::UniqueFd fd =
        host::connect_until(qemu_->addresses()[0], Clock::now() + std::chrono::seconds(10));
    // Noise before the first frame: the firmware's reader must skip it.
    if (!garbage.empty()) {
      EXPECT_EQ(::write(fd.get(), garbage.data(), garbage.size()),
                static_cast<ssize_t>(garbage.size()));
    }
    link_.attach_peer(0, std::move(fd));
  }

  // Sends the greeting; returns the answer (after an image sent over the
  // UART, which may take a while on a loaded machine, if `wait` says so).
  host::WireMessage greet(uint64_t plan_hash,
                          std::chrono::seconds wait = std::chrono::seconds(10)) {
    link_.set_plan_hash(plan_hash, 0);
    // A keyed link's greeting carries its challenge, which the Pong answers.
    EXPECT_EQ(keyed_link_ ? link_.send_greeting(0)
                          : link_.send_message(0, device::MessageType::Ping, device::kNoInference,
                                               reinterpret_cast<const uint8_t*>("hello!!!"), 8),
              device::TransportStatus::Ok);
    host::WireMessage m;
    EXPECT_EQ(link_.wait_control(&m, Clock::now() + wait, 0), device::TransportStatus::Ok)
        << link_.error();
    return m;
  }

  // Stop (shut down), then QEMU's exit status.
  int stop() {
    link_.send_message(0, device::MessageType::Stop, device::kNoInference, nullptr, 0);
    return qemu_->wait_all(std::chrono::seconds(10))[0];
  }

  host::SocketTransport& link() { return link_; }
  std::string output() { return qemu_->output(0); }

 private:
  std::unique_ptr<host::QemuDevices> qemu_;
  host::SocketTransport link_{milliseconds(5000)};
  bool keyed_link_ = false;
};

std::string error_text(const host::WireMessage& m) {
  if (m.body.size() < device::kErrorCodeBytes) return "";
  return std::string(m.body.begin() + device::kErrorCodeBytes, m.body.end());
}

TEST(QemuDevice, RefusesAMissingImageAndACorruptedOne) {
  Fixture& f = fixture();
  const plan::PlanFile file = plan::parse_plan(model::read_file_bytes(f.plan), f.plan);
  std::vector<uint8_t> image = host::write_participant_image(file, 0);
  image[image.size() / 2] ^= 0x40;  // a weight byte: the image CRC fails
  const std::string corrupt = f.dir->file("corrupt.img");
  model::write_file_atomically(corrupt, std::string(image.begin(), image.end()), "image ");
  const std::string zeros = f.dir->file("zeros.img");
  model::write_file_atomically(zeros, std::string(4096, '\0'), "image ");

  for (const auto& [path, expected] :
       {std::pair<std::string, std::string>{zeros, "holds no device image"},
        std::pair<std::string, std::string>{corrupt,
                                            "its device image is unusable: CRC mismatch"}}) {
    OneDevice d(path, "");
    const host::WireMessage m = d.greet(file.hash);
    ASSERT_EQ(m.type, device::MessageType::Error) << path;
    EXPECT_EQ(device::load_le32(m.body.data()),
              static_cast<uint32_t>(device::ErrorCode::BadProvision));
    const std::string text = error_text(m);
    EXPECT_NE(text.find("device (participant 0) refused the plan: "), std::string::npos) << text;
    EXPECT_NE(text.find(expected), std::string::npos) << text;
    EXPECT_EQ(d.stop(), 1) << d.output();
    EXPECT_NE(d.output().find(text), std::string::npos) << d.output();
    EXPECT_EQ(expect_stack_within_bound(d.output(), path), 1) << d.output();
  }
}

// Booted with the Fashion-MNIST model's first image and stopped before any
// greeting, each firmware reports the RAM it uses statically: exactly its
// arena plus the runtime's share the planner charges every device, which
// fills its RAM region (the 32 KiB one refuses that plan's arena, but boots).
TEST(QemuDevice, StaticRamIsTheArenaPlusTheRuntimeShareExactly) {
  Fixture& f = fixture();
  const plan::PlanFile file = plan::parse_plan(model::read_file_bytes(f.plan), f.plan);
  const std::vector<uint8_t> image = host::write_participant_image(file, 0);
  const std::string path = f.dir->file("static-ram.img");
  model::write_file_atomically(path, std::string(image.begin(), image.end()), "image ");
  for (const std::string& firmware :
       {env("MCUSPLIT_FW_DEVICE_ELF"), env("MCUSPLIT_FW_DEVICE_32K_ELF")}) {
    SCOPED_TRACE(firmware);
    const host::FirmwareLayout layout = host::read_firmware_layout(firmware);
    ASSERT_TRUE(layout.from_file);
    OneDevice d(path, "", firmware);
    EXPECT_EQ(d.stop(), 0) << d.output();
    const std::string said = d.output();
    std::smatch banner;
    ASSERT_TRUE(std::regex_search(said, banner, std::regex("mcusplit-fw device: [^\r\n]*")))
        << said;
    const std::string line = banner.str(0);
    const int64_t arena = field(line, "arena");
    EXPECT_EQ(field(line, "static_ram"), arena + core::kDeviceRuntimeRamBytes) << line;
    EXPECT_EQ(field(line, "ram_budget"), layout.ram_bytes) << line;
    EXPECT_EQ(arena, layout.arena_bytes) << line;
    EXPECT_EQ(field(line, "stack"), core::kDeviceStackReserveBytes) << line;
    EXPECT_EQ(expect_stack_within_bound(said, firmware), 1) << said;
  }
}

TEST(QemuDevice, GarbageOnTheSerialLinkIsSkippedBothWays) {
  Fixture& f = fixture();
  const plan::PlanFile file = plan::parse_plan(model::read_file_bytes(f.plan), f.plan);
  const std::vector<uint8_t> image = host::write_participant_image(file, 0);
  const std::string path = f.dir->file("device0.img");
  model::write_file_atomically(path, std::string(image.begin(), image.end()), "image ");
  // Noise, a false magic with a partial header, a magic prefix.
  std::string garbage = "line noise \x01\x02\xff MSPF";
  garbage += std::string(40, '\x5a');
  garbage += "MSP";
  OneDevice d(path, garbage);
  // A greeting for another plan is refused: the device holds this one.
  host::WireMessage wrong = d.greet(file.hash ^ 1);
  ASSERT_EQ(wrong.type, device::MessageType::Error);
  EXPECT_NE(error_text(wrong).find("device 'teensy41-0' refused the plan: its device image is "
                                   "for plan"),
            std::string::npos)
      << error_text(wrong);
  EXPECT_EQ(d.stop(), 1) << d.output();
  EXPECT_EQ(expect_stack_within_bound(d.output(), "refused"), 1) << d.output();

  OneDevice ok(path, garbage);
  const host::WireMessage pong = ok.greet(file.hash);
  ASSERT_EQ(pong.type, device::MessageType::Pong) << error_text(pong);
  EXPECT_EQ(pong.plan_hash, file.hash);
  EXPECT_EQ(std::string(pong.body.begin(), pong.body.end()), "hello!!!");
  EXPECT_EQ(ok.stop(), 0) << ok.output();
  const std::string said = ok.output();
  // The banner went to the UART and to semihosting: the host skipped exactly it.
  std::smatch banner;
  ASSERT_TRUE(std::regex_search(said, banner, std::regex("mcusplit-fw device: [^\r\n]*\r\n")))
      << said;
  EXPECT_EQ(ok.link().dropped_bytes(0), static_cast<int64_t>(banner.length(0))) << said;
  EXPECT_NE(said.find("'teensy41-0' participant 0 of 3"), std::string::npos) << said;
  // And the device skipped exactly the host's noise.
  EXPECT_NE(said.find("garbage_bytes=" + std::to_string(garbage.size())), std::string::npos)
      << said;
}

// The UART transport keeps a control message's payload in the runtime's
// frame buffer, which the run does not use while it waits for a frame: a
// Ping of a whole frame's payload sent right after the Start, answered by
// the device while its run waits for its input, comes back intact, and the
// run that goes on through the same buffer stays bit-exact with the int8
// executor. The host plays the coordinator of a 1-device plan.
TEST(QemuDevice, APingInTheMiddleOfARunIsEchoedAndTheRunStaysBitExact) {
  Fixture& f = fixture();
  const std::string plan_path = f.dir->file("fashion-1.plan");
  const CliResult p =
      run_cli("plan '" + f.mq + "' --devices 1xteensy41 -o '" + plan_path + "'", *f.dir);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const plan::PlanFile file = plan::parse_plan(model::read_file_bytes(plan_path), plan_path);
  ASSERT_EQ(file.plan.participants.size(), 2u);
  const std::vector<uint8_t> image = host::write_participant_image(file, 0);
  const std::string path = f.dir->file("single-device.img");
  model::write_file_atomically(path, std::string(image.begin(), image.end()), "image ");

  const quant::QGraph graph = quant::read_mq_file(f.mq);
  std::mt19937 gen(11);
  std::vector<int8_t> input(static_cast<size_t>(graph.tensors.at(graph.input).bytes()));
  for (int8_t& v : input) {
    v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
  }
  const std::vector<int8_t> expected = quant::Int8Executor(graph).run(input);
  std::vector<uint8_t> ping(device::kDefaultMaxPayload);
  for (size_t i = 0; i < ping.size(); ++i) ping[i] = static_cast<uint8_t>(7 * i + 1);

  OneDevice d(path, "", env("MCUSPLIT_FW_DEVICE_ELF"), 1);
  ASSERT_EQ(d.greet(file.hash).type, device::MessageType::Pong) << d.output();
  host::SocketTransport& link = d.link();
  link.set_max_payload(static_cast<uint32_t>(file.plan.max_payload_bytes));
  const host::DeviceSlice coordinator(file, 1);
  const device::DeviceProgram& program = coordinator.program();
  const auto deadline = [] { return Clock::now() + std::chrono::seconds(20); };
  for (uint32_t id = 0; id < 2; ++id) {
    SCOPED_TRACE(id);
    link.set_inference(id);
    ASSERT_EQ(link.send_message(0, device::MessageType::Start, id, nullptr, 0,
                                static_cast<uint32_t>(graph.input)),
              device::TransportStatus::Ok);
    ASSERT_EQ(link.send_message(0, device::MessageType::Ping, id, ping.data(), ping.size()),
              device::TransportStatus::Ok);
    std::vector<int8_t> arena(static_cast<size_t>(program.arena_bytes));
    std::vector<int8_t> frame(
        static_cast<size_t>(device::frame_buffer_bytes(program, link.max_payload())));
    std::vector<int8_t> output(expected.size());
    device::DeviceRuntime runtime(program, arena.data(), program.arena_bytes, frame.data(),
                                  static_cast<int64_t>(frame.size()), &link);
    ASSERT_EQ(runtime.run(input.data(), static_cast<int64_t>(input.size()), output.data(),
                          static_cast<int64_t>(output.size())),
              device::RuntimeStatus::Ok)
        << runtime.failure().detail << ": " << link.error() << "\n"
        << d.output();
    EXPECT_EQ(output, expected);
    host::WireMessage pong;
    ASSERT_EQ(link.wait_control(&pong, deadline(), 0, static_cast<int>(device::MessageType::Pong)),
              device::TransportStatus::Ok);
    EXPECT_EQ(pong.inference_id, id);
    EXPECT_EQ(pong.body, ping);
    bool summary = false;
    while (!summary) {
      host::WireMessage m;
      ASSERT_EQ(link.wait_control(&m, deadline(), 0), device::TransportStatus::Ok) << d.output();
      ASSERT_NE(m.type, device::MessageType::Error) << error_text(m);
      if (m.type == device::MessageType::Stats) {
        summary = host::decode_stats(m.body).count(device::StatKey::TotalMicros) != 0;
      }
    }
  }
  EXPECT_EQ(d.stop(), 0) << d.output();
  EXPECT_NE(d.output().find("inferences=2 "), std::string::npos) << d.output();
  EXPECT_EQ(expect_stack_within_bound(d.output(), "ping"), 1) << d.output();
}

// Provisioning over the link refuses a message larger than the region at
// its first chunk, and an image that arrived whole but unusable at the
// greeting.
// A device with a cluster key in its key slot tags every frame and takes
// an image over the link only with that key's tag; one without a key
// refuses a tagged image. Each refusal is the greeting's Error, saying why,
// and the device exits 1. A key on one side of the link only is refused at
// the first frame, by both sides.
TEST(QemuDevice, AKeyedDeviceTakesOnlyTaggedFramesAndImagesOfItsKey) {
  Fixture& f = fixture();
  const plan::PlanFile file = plan::parse_plan(model::read_file_bytes(f.plan), f.plan);
  const std::vector<uint8_t> image = host::write_participant_image(file, 0);
  host::ClusterKey key{};
  host::ClusterKey other{};
  for (size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<uint8_t>(i * 13 + 1);
    other[i] = static_cast<uint8_t>(i * 13 + 2);
  }
  const std::string slot = f.dir->file("cluster.slot");
  host::write_key_slot_file(slot, key, 0x0123456789abcdefull);
  const auto provision = [&](OneDevice& d, const std::optional<host::ClusterKey>& tag) {
    host::Provisioning p;
    const std::vector<uint8_t> sent = tag ? host::tagged_image(image, *tag) : image;
    p.image.assign(sent.begin(), sent.end());
    p.names = {"teensy41-0", "teensy41-1", "coordinator"};
    const std::vector<uint8_t> body = host::encode_provisioning(p);
    ASSERT_EQ(d.link().send_message(0, device::MessageType::Provision, device::kNoInference,
                                    body.data(), body.size()),
              device::TransportStatus::Ok);
  };
  struct Case {
    bool keyed;  // the device and the link alike
    std::optional<host::ClusterKey> tag;
    const char* refusal;  // null: accepted
  };
  const Case cases[] = {
      {true, key, nullptr},
      {true, std::nullopt,
       "the image carries no authentication tag, and this device has a "
       "cluster key"},
      {true, other, "the image's authentication tag is wrong"},
      {false, key, "the image carries an authentication tag, and this device has no cluster key"},
  };
  for (const Case& c : cases) {
    OneDevice d("", "", env("MCUSPLIT_FW_DEVICE_ELF"), 2, c.keyed ? slot : "",
                c.keyed ? &key : nullptr);
    provision(d, c.tag);
    const host::WireMessage m = d.greet(file.hash, std::chrono::seconds(60));
    if (c.refusal == nullptr) {
      EXPECT_EQ(m.type, device::MessageType::Pong) << error_text(m);
      EXPECT_EQ(d.stop(), 0) << d.output();
    } else {
      ASSERT_EQ(m.type, device::MessageType::Error) << c.refusal;
      EXPECT_EQ(device::load_le32(m.body.data()),
                static_cast<uint32_t>(device::ErrorCode::BadProvision));
      EXPECT_NE(error_text(m).find(std::string("refused the plan: ") + c.refusal),
                std::string::npos)
          << error_text(m);
      EXPECT_EQ(d.stop(), 1) << d.output();
    }
    // The HMAC runs at the greeting, off the run's deepest path.
    EXPECT_EQ(expect_stack_within_bound(d.output(), c.refusal ? c.refusal : "accepted"), 1);
  }
  // A key on one side of the link only: the device answers the first frame
  // with an Error in its own terms, which the link refuses in its own.
  for (const bool device_keyed : {true, false}) {
    OneDevice d("", "", env("MCUSPLIT_FW_DEVICE_ELF"), 2, device_keyed ? slot : "",
                device_keyed ? nullptr : &key);
    ASSERT_EQ(d.link().send_greeting(0), device::TransportStatus::Ok);
    host::WireMessage m;
    EXPECT_EQ(d.link().wait_control(&m, Clock::now() + std::chrono::seconds(10), 0),
              device::TransportStatus::Failed);
    EXPECT_EQ(d.link().error(),
              std::string("bad frame from 'teensy41-0': ") +
                  (device_keyed ? "an authentication tag (this side has no cluster key, "
                                  "--key-file)"
                                : "no authentication tag (this side has a cluster key; has the "
                                  "sender none?)"))
        << d.output();
  }
  // An image QEMU loaded: a keyed device reads a tag after it, where an
  // untagged image has none (zeros), so it is refused too.
  const std::string untagged = f.dir->file("untagged.img");
  model::write_file_atomically(untagged, std::string(image.begin(), image.end()), "image ");
  OneDevice d(untagged, "", env("MCUSPLIT_FW_DEVICE_ELF"), 2, slot, &key);
  const host::WireMessage m = d.greet(file.hash);
  ASSERT_EQ(m.type, device::MessageType::Error);
  EXPECT_NE(error_text(m).find("refused the plan: the image's authentication tag is wrong"),
            std::string::npos)
      << error_text(m);
  EXPECT_EQ(d.stop(), 1) << d.output();
}

TEST(QemuDevice, ProvisioningOverTheLinkRefusesWhatDoesNotFitOrDoesNotParse) {
  Fixture& f = fixture();
  const plan::PlanFile file = plan::parse_plan(model::read_file_bytes(f.plan), f.plan);
  const host::FirmwareLayout layout = host::read_firmware_layout(env("MCUSPLIT_FW_DEVICE_ELF"));
  {
    OneDevice d("", "");
    // Only its first chunk is read before the refusal; the QEMU is killed.
    const std::vector<uint8_t> big(layout.provision_bytes + 1, 0);
    ASSERT_EQ(d.link().send_message(0, device::MessageType::Provision, device::kNoInference,
                                    big.data(), big.size()),
              device::TransportStatus::Ok);
    host::WireMessage m;
    ASSERT_EQ(d.link().wait_control(&m, Clock::now() + std::chrono::seconds(10), 0),
              device::TransportStatus::Ok)
        << d.link().error();
    ASSERT_EQ(m.type, device::MessageType::Error);
    EXPECT_EQ(device::load_le32(m.body.data()),
              static_cast<uint32_t>(device::ErrorCode::BadProvision));
    EXPECT_NE(error_text(m).find("its plan slice (" + std::to_string(big.size()) +
                                 " bytes) does not fit the provisioning region (" +
                                 std::to_string(layout.provision_bytes) + " bytes"),
              std::string::npos)
        << error_text(m);
  }
  {
    OneDevice d("", "");
    // The first 4 KiB of an image: its header promises more.
    std::vector<uint8_t> image = host::write_participant_image(file, 0);
    host::Provisioning p;
    p.image.assign(image.begin(), image.begin() + 4096);
    p.names = {"teensy41-0", "teensy41-1", "coordinator"};
    const std::vector<uint8_t> body = host::encode_provisioning(p);
    ASSERT_EQ(d.link().send_message(0, device::MessageType::Provision, device::kNoInference,
                                    body.data(), body.size()),
              device::TransportStatus::Ok);
    const host::WireMessage m = d.greet(file.hash);
    ASSERT_EQ(m.type, device::MessageType::Error);
    const std::string text = error_text(m);
    EXPECT_NE(text.find("refused the plan: its device image is unusable: "), std::string::npos)
        << text;
    EXPECT_EQ(d.stop(), 1) << d.output();
    EXPECT_NE(d.output().find("provisioning failed"), std::string::npos) << d.output();
  }
}

}  // namespace
}  // namespace mcusplit::testing
