#include "plan/core_costs.h"

#include <array>

namespace mcusplit::plan {
namespace {

// `mcusplit calibrate --board B` on 2026-12-07 (QEMU 7.2, GCC 12.2 -O2):
// each kernel's instructions per work unit, per output value, per input
// value, per output position and per call, fitted over the kernel bench's 96
// cases (firmware/kernel_bench_main.cpp: MobileNetV2- and Fashion-MNIST-sized
// layers, whole and in small boxes and narrow channel slices).
// Instruction counts are exact under -icount; the same build gives the same
// figures.
constexpr std::array<KernelCost, 12> kAn385 = {{
    {"add", 14.788, 0.00, 0.00, 66.22, 12852},
    {"averagepool", 7.366, 32.01, 0.50, 61.25, 269},
    {"concat", 14.652, 0.00, 0.00, 73.05, 981},
    {"conv", 6.155, 184.03, 0.00, 68.46, 0},
    {"depthwise", 6.370, 129.02, 1.17, 90.84, 0},
    {"fully_connected", 6.000, 69.00, 0.00, 127.00, 0},
    {"globalaveragepool", 6.102, 55.72, 0.00, 570.47, 0},
    {"maxpool", 8.319, 23.03, 4.77, 0.00, 196},
    {"pad", 11.282, 0.00, 9.56, 49.25, 304},
    {"pointwise", 6.038, 59.78, 0.00, 19.91, 6847},
    {"reshape", 71.632, 0.00, 0.84, 223.27, 0},
    {"softmax", 166.609, 0.00, 0.00, 566.56, 225},
}};
constexpr std::array<KernelCost, 12> kAn386 = {{
    {"add", 14.752, 0.00, 0.00, 66.87, 13364},
    {"averagepool", 7.593, 35.98, 0.48, 50.10, 269},
    {"concat", 14.350, 0.00, 0.00, 74.92, 998},
    {"conv", 1.756, 48.49, 0.00, 369.15, 1876},
    {"depthwise", 4.503, 47.64, 0.61, 96.52, 2235},
    {"fully_connected", 3.000, 83.00, 0.00, 125.79, 0},
    {"globalaveragepool", 6.102, 56.77, 0.00, 575.88, 0},
    {"maxpool", 8.641, 23.17, 5.31, 0.00, 185},
    {"pad", 12.282, 0.00, 11.56, 51.25, 302},
    {"pointwise", 1.573, 58.63, 2.87, 121.45, 1763},
    {"reshape", 71.650, 0.00, 0.80, 235.22, 0},
    {"softmax", 165.990, 0.00, 0.00, 563.19, 230},
}};
constexpr std::array<KernelCost, 12> kAn500 = {{
    {"add", 14.234, 0.00, 0.00, 72.42, 11070},
    {"averagepool", 7.593, 35.98, 0.48, 56.12, 271},
    {"concat", 14.358, 0.00, 0.00, 71.29, 964},
    {"conv", 1.571, 42.55, 0.00, 357.77, 1875},
    {"depthwise", 4.729, 36.82, 0.41, 87.63, 2412},
    {"fully_connected", 3.000, 81.00, 0.00, 126.20, 0},
    {"globalaveragepool", 6.099, 56.17, 0.00, 569.68, 0},
    {"maxpool", 8.642, 21.15, 5.32, 0.00, 188},
    {"pad", 20.691, 0.00, 0.65, 41.76, 376},
    {"pointwise", 1.385, 52.60, 2.85, 115.58, 1860},
    {"reshape", 71.644, 0.00, 0.81, 229.59, 0},
    {"softmax", 166.542, 0.00, 0.00, 582.14, 271},
}};
constexpr std::array<KernelCost, 12> kAn505 = {{
    {"add", 14.823, 0.00, 0.00, 65.61, 12591},
    {"averagepool", 7.556, 36.59, 0.50, 49.02, 269},
    {"concat", 14.652, 0.00, 0.00, 73.07, 989},
    {"conv", 1.755, 48.69, 0.00, 375.06, 1897},
    {"depthwise", 4.884, 38.58, 0.23, 91.73, 2705},
    {"fully_connected", 3.000, 82.99, 0.00, 125.40, 0},
    {"globalaveragepool", 6.101, 55.72, 0.00, 569.04, 0},
    {"maxpool", 8.631, 23.47, 5.28, 0.00, 188},
    {"pad", 12.282, 0.00, 11.56, 51.25, 304},
    {"pointwise", 1.573, 58.23, 2.88, 128.08, 1656},
    {"reshape", 72.627, 0.00, 0.85, 223.63, 0},
    {"softmax", 166.607, 0.00, 0.00, 566.59, 227},
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
                               k.instructions_per_pixel * seconds_per_instruction,
                               k.instructions_per_call * seconds_per_instruction});
  }
  return rates;
}

}  // namespace mcusplit::plan
