#include "plan/core_costs.h"

#include <array>

namespace mcusplit::plan {
namespace {

// `mcusplit calibrate --board B` on 2026-12-07 (QEMU 7.2, GCC 12.2 -O2):
// each kernel's instructions per work unit, per output value, per input
// value and per call, fitted over the kernel bench's 90 cases (firmware/kernel_bench_main.cpp:
// MobileNetV2- and Fashion-MNIST-sized layers, whole and in small boxes).
// Instruction counts are exact under -icount; the same build gives the same
// figures.
constexpr std::array<KernelCost, 12> kAn385 = {{
    {"add", 16.218, 0.00, 0.00, 12634},
    {"averagepool", 6.801, 40.92, 0.91, 257},
    {"concat", 15.596, 0.00, 0.00, 1496},
    {"conv", 6.208, 189.00, 0.00, 0},
    {"depthwise", 6.168, 136.05, 0.21, 2174},
    {"fully_connected", 6.000, 69.00, 0.00, 127},
    {"globalaveragepool", 6.102, 55.72, 0.00, 570},
    {"maxpool", 8.319, 23.03, 4.76, 196},
    {"pad", 17.240, 0.00, 0.00, 2804},
    {"pointwise", 6.050, 60.34, 0.00, 7237},
    {"reshape", 71.632, 0.00, 0.84, 223},
    {"softmax", 177.052, 0.00, 0.00, 475},
}};
constexpr std::array<KernelCost, 12> kAn386 = {{
    {"add", 16.197, 0.00, 0.00, 13136},
    {"averagepool", 7.131, 43.27, 0.81, 259},
    {"concat", 15.315, 0.00, 0.00, 1526},
    {"conv", 1.575, 77.48, 14.61, 0},
    {"depthwise", 4.317, 53.86, 0.00, 3855},
    {"fully_connected", 3.000, 83.00, 0.00, 126},
    {"globalaveragepool", 6.102, 56.77, 0.00, 576},
    {"maxpool", 8.641, 23.17, 5.31, 185},
    {"pad", 19.265, 0.00, 0.00, 3048},
    {"pointwise", 1.534, 63.54, 3.97, 1794},
    {"reshape", 71.650, 0.00, 0.80, 235},
    {"softmax", 176.373, 0.00, 0.00, 479},
}};
constexpr std::array<KernelCost, 12> kAn500 = {{
    {"add", 15.784, 0.00, 0.00, 10859},
    {"averagepool", 7.075, 44.14, 0.85, 260},
    {"concat", 15.280, 0.00, 0.00, 1467},
    {"conv", 1.401, 70.64, 13.68, 0},
    {"depthwise", 4.566, 42.18, 0.00, 3611},
    {"fully_connected", 3.000, 81.00, 0.00, 126},
    {"globalaveragepool", 6.099, 56.17, 0.00, 570},
    {"maxpool", 8.642, 21.15, 5.32, 188},
    {"pad", 22.377, 0.00, 0.00, 3403},
    {"pointwise", 1.348, 57.23, 3.90, 1895},
    {"reshape", 71.644, 0.00, 0.81, 230},
    {"softmax", 177.247, 0.00, 0.00, 529},
}};
constexpr std::array<KernelCost, 12> kAn505 = {{
    {"add", 16.240, 0.00, 0.00, 12378},
    {"averagepool", 7.104, 43.72, 0.83, 260},
    {"concat", 15.596, 0.00, 0.00, 1504},
    {"conv", 1.577, 78.09, 14.52, 0},
    {"depthwise", 4.719, 43.77, 0.00, 3567},
    {"fully_connected", 3.000, 83.00, 0.00, 125},
    {"globalaveragepool", 6.101, 55.72, 0.00, 569},
    {"maxpool", 8.631, 23.47, 5.28, 187},
    {"pad", 19.265, 0.00, 0.00, 3049},
    {"pointwise", 1.531, 63.39, 4.06, 1697},
    {"reshape", 72.627, 0.00, 0.85, 224},
    {"softmax", 177.051, 0.00, 0.00, 477},
}};

const std::array<CoreCosts, 4> kCores = {{
    {"an385", "Cortex-M3", kAn385},
    {"an386", "Cortex-M4", kAn386},
    {"an500", "Cortex-M7", kAn500},
    {"an505", "Cortex-M33", kAn505},
}};

}  // namespace

std::span<const CoreCosts> measured_cores() {
  return kCores;
}

const CoreCosts* find_core_costs(const std::string& board) {
  for (const CoreCosts& c : kCores) {
    if (board == c.board) return &c;
  }
  return nullptr;
}

std::vector<KernelRate> kernel_rates_from(const CoreCosts& costs, double clock_hz,
                                          double cycles_per_instruction) {
  std::vector<KernelRate> rates;
  for (const KernelCost& k : costs.kernels) {
    const double seconds_per_instruction = cycles_per_instruction / clock_hz;
    rates.push_back(KernelRate{k.kernel, 1 / (k.instructions_per_work * seconds_per_instruction),
                               k.instructions_per_output * seconds_per_instruction,
                               k.instructions_per_input * seconds_per_instruction,
                               k.instructions_per_call * seconds_per_instruction});
  }
  return rates;
}

}  // namespace mcusplit::plan
