// The `--devices` shorthand: comma-separated items "[N x]PROFILE", e.g.
// "8xteensy41", "4xteensy41,4xrp2040", "teensy41" (N = 1).
#pragma once

#include <string>

#include "plan/cluster.h"

namespace mcusplit::plan {

// Largest device count one shorthand item or file entry may ask for.
constexpr int kMaxDeviceCount = 1024;

// Devices named <profile>-<k> (DeviceNamer), switched topology. Throws
// mcusplit::Error (exit code 2) on an empty item, a count that is not a
// positive integer up to kMaxDeviceCount, a missing or unknown profile.
ClusterSpec parse_devices_shorthand(const std::string& spec);

}  // namespace mcusplit::plan
