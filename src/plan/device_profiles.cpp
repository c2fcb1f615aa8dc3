#include "plan/device_profiles.h"

#include <array>

#include "common/error.h"

namespace mcusplit::plan {

namespace {

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;

// Cycles per int8 MAC (docs/cluster.md, "Compute rate"):
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

constexpr std::array<DeviceProfile, 5> kProfiles = {{
    {"teensy41", "NXP i.MX RT1062 Cortex-M7", 600e6, kCortexM7CyclesPerMac, 1 * kMiB, 8 * kMiB,
     "100 Mbit/s Ethernet (DP83825 PHY)", 100e6, 100e-6},
    {"stm32h743", "ST STM32H743 Cortex-M7", 480e6, kCortexM7CyclesPerMac, 1 * kMiB, 2 * kMiB,
     "100 Mbit/s Ethernet (on-chip MAC, external PHY)", 100e6, 100e-6},
    {"esp32s3", "Espressif ESP32-S3 Xtensa LX7 (one of two cores)", 240e6, kXtensaLx7CyclesPerMac,
     512 * kKiB, 8 * kMiB, "802.11n Wi-Fi, 20 Mbit/s effective", 20e6, 2e-3},
    {"rp2040", "Raspberry Pi RP2040 Cortex-M0+ (one of two cores)", 133e6,
     kCortexM0PlusCyclesPerMac, 264 * kKiB, 2 * kMiB,
     "W5500 Ethernet over SPI, 10 Mbit/s effective", 10e6, 200e-6},
    {"nrf52840", "Nordic nRF52840 Cortex-M4F", 64e6, kCortexM4CyclesPerMac, 256 * kKiB, 1 * kMiB,
     "Bluetooth LE 2M PHY, 1.3 Mbit/s effective", 1.3e6, 7.5e-3},
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

DeviceSpec device_from_profile(const DeviceProfile& profile, const std::string& device_name) {
  DeviceSpec d;
  d.name = device_name;
  d.profile = profile.name;
  d.ram_bytes = profile.ram_bytes;
  d.flash_bytes = profile.flash_bytes;
  d.macs_per_second = profile.macs_per_second();
  d.link_bits_per_second = profile.link_bits_per_second;
  d.link_latency_s = profile.link_latency_s;
  return d;
}

}  // namespace mcusplit::plan
