// Built-in device profiles: datasheet memory sizes, the clock, each kernel's
// cost in cycles (instructions measured on an emulated core of the same
// family, core_costs.h, times an assumed cycles per instruction), a
// cycles-per-MAC figure for anything else, and an effective link rate; and
// the emulated boards `run --targets qemu` boots (an385, an386, an500,
// an505). docs/cluster.md gives the source and reasoning of every figure.
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
  int64_t link_frame_overhead_bytes;
  int64_t link_window_frames;
  // The emulated board it is (its firmware and QEMU machine), "" for a
  // real part.
  const char* board;
  // The measured core (core_costs.h, by board) its kernels' instruction
  // counts come from, and the cycles each instruction takes on this part
  // (1 on the emulated boards, which count instructions).
  const char* costs_from;
  double cycles_per_instruction;

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
// The profile of emulated board `board` (an385, ...), nullptr when unknown.
const DeviceProfile* find_board_profile(const std::string& board);
// "an385, an386, an500, an505" for error messages.
std::string known_board_names();
// A device with every figure taken from the profile.
DeviceSpec device_from_profile(const DeviceProfile& profile, const std::string& device_name);

}  // namespace mcusplit::plan
