#include "plan/core_costs.h"

#include <array>

namespace mcusplit::plan {
namespace {

// `mcusplit calibrate --board B` on 2026-12-07 (QEMU 7.2, GCC 12.2 -O2): each
// kernel's instructions over its work units, summed over the kernel bench's
// cases of it (firmware/kernel_bench_main.cpp: MobileNetV2- and
// Fashion-MNIST-sized layers). Instruction counts are exact under -icount;
// the same build gives the same figures.
constexpr std::array<KernelCost, 12> kAn385 = {{
    {"add", 15.949},
    {"averagepool", 11.952},
    {"concat", 17.327},
    {"conv", 13.938},
    {"depthwise", 21.275},
    {"fully_connected", 6.185},
    {"globalaveragepool", 10.911},
    {"maxpool", 13.720},
    {"pad", 19.722},
    {"pointwise", kAn385PointwisePerMac},
    {"reshape", 72.338},
    {"softmax", 170.405},
}};
constexpr std::array<KernelCost, 12> kAn386 = {{
    {"add", 15.955},
    {"averagepool", 12.538},
    {"concat", 17.009},
    {"conv", 4.824},
    {"depthwise", 10.006},
    {"fully_connected", 3.221},
    {"globalaveragepool", 11.001},
    {"maxpool", 14.348},
    {"pad", 21.830},
    {"pointwise", kAn386PointwisePerMac},
    {"reshape", 72.342},
    {"softmax", 169.765},
}};
constexpr std::array<KernelCost, 12> kAn500 = {{
    {"add", 15.373},
    {"averagepool", 12.598},
    {"concat", 16.964},
    {"conv", 4.365},
    {"depthwise", 8.956},
    {"fully_connected", 3.216},
    {"globalaveragepool", 10.944},
    {"maxpool", 14.098},
    {"pad", 24.314},
    {"pointwise", kAn500PointwisePerMac},
    {"reshape", 72.339},
    {"softmax", 170.368},
}};
constexpr std::array<KernelCost, 12> kAn505 = {{
    {"add", 15.948},
    {"averagepool", 12.569},
    {"concat", 17.328},
    {"conv", 4.851},
    {"depthwise", 9.243},
    {"fully_connected", 3.221},
    {"globalaveragepool", 10.910},
    {"maxpool", 14.359},
    {"pad", 21.830},
    {"pointwise", kAn505PointwisePerMac},
    {"reshape", 73.339},
    {"softmax", 170.405},
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
    rates.push_back(KernelRate{k.kernel, clock_hz / (k.instructions_per_work * cycles_per_instruction)});
  }
  return rates;
}

}  // namespace mcusplit::plan
