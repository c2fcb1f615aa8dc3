// Built-in device profiles: datasheet memory sizes, a compute rate derived
// from the clock and an assumed cycles-per-MAC figure, and an effective link
// rate. docs/cluster.md gives the source and reasoning of every figure.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "plan/cluster.h"

namespace mcusplit::plan {

struct DeviceProfile {
  const char* name;
  const char* core;  // for docs and error messages
  double clock_hz;
  double cycles_per_mac;  // int8 MAC with CMSIS-NN-class kernels, one core
  int64_t ram_bytes;
  int64_t flash_bytes;
  const char* link;  // what the link figures model
  double link_bits_per_second;
  double link_latency_s;

  double macs_per_second() const { return clock_hz / cycles_per_mac; }
};

std::span<const DeviceProfile> device_profiles();
// nullptr when unknown.
const DeviceProfile* find_device_profile(const std::string& name);
// "teensy41, stm32h743, ..." for error messages.
std::string known_profile_names();
// The profile looked up by name; throws mcusplit::Error listing the known
// ones when unknown (`origin` prefixes the message).
const DeviceProfile& device_profile(const std::string& name, const std::string& origin);
// A device with every figure taken from the profile.
DeviceSpec device_from_profile(const DeviceProfile& profile, const std::string& device_name);

}  // namespace mcusplit::plan
