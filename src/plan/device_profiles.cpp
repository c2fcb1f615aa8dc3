#include "plan/device_profiles.h"

#include <array>

#include "common/error.h"
#include "plan/core_costs.h"

namespace mcusplit::plan {

namespace {

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;

// Cycles per int8 MAC, for what a profile's measured core has no figure for
// (docs/cluster.md, "Compute rate"):
// - Cortex-M7: 0.92 G instructions measured for 300.8 M MACs of (docs/design.md)
//   MobileNetV2 with CMSIS-NN-class kernels (3.06 instructions/MAC); dual issue
//   is taken to be eaten by load stalls and cache misses on weights: IPC 1.
// - Cortex-M4F: same DSP (SMLAD) instruction stream, single issue, 2-cycle
//   loads: IPC about 0.75.
// - Xtensa LX7: CMSIS-NN-class figure assumed (its SIMD is not exploited).
// - Cortex-M0+: no DSP or SIMD; the plain-loop kernels ran 11.6 instructions/MAC
//   on the M7, and Thumb-1 with 2-cycle loads and branches needs about 1.4
//   cycles per instruction.
constexpr double kCortexM7CyclesPerMac = 3.0;
constexpr double kCortexM4CyclesPerMac = 4.0;
constexpr double kXtensaLx7CyclesPerMac = 3.0;
constexpr double kCortexM0PlusCyclesPerMac = 16.0;
// Cycles per instruction of the parts whose kernels' instruction counts come
// from a measured core (above: IPC 1 on the M7 and the LX7, 0.75 on the M4F,
// about 1.4 on the M0+).
constexpr double kCortexM7Cpi = 1.0;
constexpr double kCortexM4Cpi = 1.0 / 0.75;
constexpr double kXtensaLx7Cpi = 1.0;
constexpr double kCortexM0PlusCpi = 1.4;

// The emulated boards under QEMU -icount shift=7 (`run --icount`): one
// instruction per 128 ns of virtual time, so a 7.8125 MHz core that runs one
// instruction a cycle, its kernels costing exactly what they were measured
// to. Their RAM is their firmware's default (firmware/boards/), their flash
// the 2 MiB provisioning region device images are loaded into, and their
// link the LAN9118 on the emulated switch (raw Ethernet frames of 90 bytes
// of overhead, one frame awaiting its Ack).
constexpr double kIcountClockHz = 1e9 / 128;
constexpr const char* kBoardLink = "LAN9118 on the emulated switch (raw Ethernet)";

constexpr std::array<DeviceProfile, 9> kProfiles = {{
    {"teensy41", "NXP i.MX RT1062 Cortex-M7", 600e6, kCortexM7CyclesPerMac, 1 * kMiB, 8 * kMiB,
     "100 Mbit/s Ethernet (DP83825 PHY)", 100e6, 100e-6, kTcpFrameOverheadBytes, 0, "", "an500",
     kCortexM7Cpi},
    {"stm32h743", "ST STM32H743 Cortex-M7", 480e6, kCortexM7CyclesPerMac, 1 * kMiB, 2 * kMiB,
     "100 Mbit/s Ethernet (on-chip MAC, external PHY)", 100e6, 100e-6, kTcpFrameOverheadBytes, 0,
     "", "an500", kCortexM7Cpi},
    {"esp32s3", "Espressif ESP32-S3 Xtensa LX7 (one of two cores)", 240e6, kXtensaLx7CyclesPerMac,
     512 * kKiB, 8 * kMiB, "802.11n Wi-Fi, 20 Mbit/s effective", 20e6, 2e-3, kTcpFrameOverheadBytes,
     0, "", "an500", kXtensaLx7Cpi},
    {"rp2040", "Raspberry Pi RP2040 Cortex-M0+ (one of two cores)", 133e6,
     kCortexM0PlusCyclesPerMac, 264 * kKiB, 2 * kMiB,
     "W5500 Ethernet over SPI, 10 Mbit/s effective", 10e6, 200e-6, kTcpFrameOverheadBytes, 0, "",
     "an385", kCortexM0PlusCpi},
    {"nrf52840", "Nordic nRF52840 Cortex-M4F", 64e6, kCortexM4CyclesPerMac, 256 * kKiB, 1 * kMiB,
     "Bluetooth LE 2M PHY, 1.3 Mbit/s effective", 1.3e6, 7.5e-3, kTcpFrameOverheadBytes, 0, "",
     "an386", kCortexM4Cpi},
    {"an385", "Cortex-M3, QEMU mps2-an385 (emulated)", kIcountClockHz, kAn385PointwisePerMac,
     128 * kKiB, 2 * kMiB, kBoardLink, 100e6, 100e-6, 90, 1, "an385", "an385", 1.0},
    {"an386", "Cortex-M4, QEMU mps2-an386 (emulated)", kIcountClockHz, kAn386PointwisePerMac,
     192 * kKiB, 2 * kMiB, kBoardLink, 100e6, 100e-6, 90, 1, "an386", "an386", 1.0},
    {"an500", "Cortex-M7, QEMU mps2-an500 (emulated)", kIcountClockHz, kAn500PointwisePerMac,
     256 * kKiB, 2 * kMiB, kBoardLink, 100e6, 100e-6, 90, 1, "an500", "an500", 1.0},
    {"an505", "Cortex-M33, QEMU mps2-an505 (emulated)", kIcountClockHz, kAn505PointwisePerMac,
     256 * kKiB, 2 * kMiB, kBoardLink, 100e6, 100e-6, 90, 1, "an505", "an505", 1.0},
}};

}  // namespace

std::span<const DeviceProfile> device_profiles() {
  return kProfiles;
}

const DeviceProfile* find_device_profile(const std::string& name) {
  for (const DeviceProfile& p : kProfiles) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

std::string known_profile_names() {
  std::string names;
  for (const DeviceProfile& p : kProfiles) {
    if (!names.empty()) names += ", ";
    names += p.name;
  }
  return names;
}

const DeviceProfile& device_profile(const std::string& name, const std::string& origin) {
  const DeviceProfile* profile = find_device_profile(name);
  if (profile == nullptr) {
    throw Error(origin + ": unknown device profile '" + name +
                "' (known: " + known_profile_names() + ")");
  }
  return *profile;
}

const DeviceProfile* find_board_profile(const std::string& board) {
  for (const DeviceProfile& p : kProfiles) {
    if (*p.board != '\0' && board == p.board) return &p;
  }
  return nullptr;
}

std::string known_board_names() {
  std::string names;
  for (const DeviceProfile& p : kProfiles) {
    if (*p.board == '\0') continue;
    if (!names.empty()) names += ", ";
    names += p.board;
  }
  return names;
}

DeviceSpec device_from_profile(const DeviceProfile& profile, const std::string& device_name) {
  DeviceSpec d;
  d.name = device_name;
  d.profile = profile.name;
  d.ram_bytes = profile.ram_bytes;
  d.flash_bytes = profile.flash_bytes;
  d.board = profile.board;
  d.clock_hz = profile.clock_hz;
  d.macs_per_second = profile.macs_per_second();
  d.kernel_rates = kernel_rates_from(*find_core_costs(profile.costs_from), profile.clock_hz,
                                     profile.cycles_per_instruction);
  d.link_bits_per_second = profile.link_bits_per_second;
  d.link_latency_s = profile.link_latency_s;
  d.link_frame_overhead_bytes = profile.link_frame_overhead_bytes;
  d.link_window_frames = profile.link_window_frames;
  return d;
}

}  // namespace mcusplit::plan
