// What each kernel costs a core, measured: instructions per work unit (the
// cost model's units, kernels/op_registry.h `work`), per output value, per
// input value, per output position and per call of every kernel, from
// `mcusplit calibrate --board BOARD` (the kernel bench firmware under QEMU
// -icount on that board). The built-in device profiles take their compute
// costs from one of these (device_profiles.h); docs/cluster.md, "Measured
// cores", says when and how each was measured.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "plan/cluster.h"

namespace mcusplit::plan {

// Instructions a kernel takes: per work unit, per output value written, per
// input value read, per output position and per call (fitted over the kernel
// bench's cases of it).
struct KernelCost {
  const char* kernel;  // a name kernels::OpRegistration's kernel_name returns
  double instructions_per_work;
  double instructions_per_output;
  double instructions_per_input;
  double instructions_per_pixel;
  double instructions_per_call;
};

struct CoreCosts {
  const char* board;  // the QEMU board it was measured on, e.g. "an385"
  const char* core;   // e.g. "Cortex-M3"
  std::span<const KernelCost> kernels;
};

// Instructions per MAC of a 1x1 convolution on each measured core over the
// kernel bench's cases of it (the bulk of a MobileNetV2's MACs): the emulated
// boards' cycles_per_mac, which prices what has no kernel of its own (a
// local copy) and their headline MAC rate.
inline constexpr double kAn385PointwisePerMac = 8.129;
inline constexpr double kAn386PointwisePerMac = 4.332;
inline constexpr double kAn500PointwisePerMac = 3.926;
inline constexpr double kAn505PointwisePerMac = 4.344;

std::span<const CoreCosts> measured_cores();
// nullptr when unknown.
const CoreCosts* find_core_costs(const std::string& board);

// A device's kernel rates on a part clocked at `clock_hz` that takes
// `cycles_per_instruction` for each instruction the core measured.
std::vector<KernelRate> kernel_rates_from(const CoreCosts& costs, double clock_hz,
                                          double cycles_per_instruction);

}  // namespace mcusplit::plan
