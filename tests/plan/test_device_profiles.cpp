// Built-in device profiles: the documented figures (docs/cluster.md), exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "kernels/op_registry.h"
#include "plan/core_costs.h"
#include "plan/device_profiles.h"
#include "plan_test_helpers.h"

namespace mcusplit::plan {
namespace {

using testing::bad_input_message;

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;

struct Expected {
  const char* name;
  double clock_hz;
  double cycles_per_mac;
  int64_t ram_bytes;
  int64_t flash_bytes;
  double link_bits_per_second;
  double link_latency_s;
};

// The table of docs/cluster.md.
const Expected kExpected[] = {
    {"teensy41", 600e6, 3.0, 1 * kMiB, 8 * kMiB, 100e6, 100e-6},
    {"stm32h743", 480e6, 3.0, 1 * kMiB, 2 * kMiB, 100e6, 100e-6},
    {"esp32s3", 240e6, 3.0, 512 * kKiB, 8 * kMiB, 20e6, 2e-3},
    {"rp2040", 133e6, 16.0, 264 * kKiB, 2 * kMiB, 10e6, 200e-6},
    {"nrf52840", 64e6, 4.0, 256 * kKiB, 1 * kMiB, 1.3e6, 7.5e-3},
    // The emulated boards: the -icount clock, 1x1 convolution's measured
    // instructions per MAC, their firmware's default RAM.
    {"an385", 7.8125e6, 8.129, 128 * kKiB, 2 * kMiB, 100e6, 100e-6},
    {"an386", 7.8125e6, 4.332, 192 * kKiB, 2 * kMiB, 100e6, 100e-6},
    {"an500", 7.8125e6, 3.926, 256 * kKiB, 2 * kMiB, 100e6, 100e-6},
    {"an505", 7.8125e6, 4.344, 256 * kKiB, 2 * kMiB, 100e6, 100e-6},
};

TEST(DeviceProfiles, FiguresAreTheDocumentedOnes) {
  ASSERT_EQ(device_profiles().size(), std::size(kExpected));
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.name);
    const DeviceProfile* p = find_device_profile(e.name);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->clock_hz, e.clock_hz);
    EXPECT_EQ(p->cycles_per_mac, e.cycles_per_mac);
    EXPECT_EQ(p->ram_bytes, e.ram_bytes);
    EXPECT_EQ(p->flash_bytes, e.flash_bytes);
    EXPECT_EQ(p->link_bits_per_second, e.link_bits_per_second);
    EXPECT_EQ(p->link_latency_s, e.link_latency_s);
    EXPECT_DOUBLE_EQ(p->macs_per_second(), e.clock_hz / e.cycles_per_mac);
  }
}

TEST(DeviceProfiles, ComputeRatesInMacsPerSecond) {
  EXPECT_DOUBLE_EQ(find_device_profile("teensy41")->macs_per_second(), 200e6);
  EXPECT_DOUBLE_EQ(find_device_profile("stm32h743")->macs_per_second(), 160e6);
  EXPECT_DOUBLE_EQ(find_device_profile("esp32s3")->macs_per_second(), 80e6);
  EXPECT_DOUBLE_EQ(find_device_profile("rp2040")->macs_per_second(), 8.3125e6);
  EXPECT_DOUBLE_EQ(find_device_profile("nrf52840")->macs_per_second(), 16e6);
}

TEST(DeviceProfiles, NamesAreUniqueAndContainNoX) {
  // The shorthand "NxPROFILE" relies on profile names without 'x'.
  std::set<std::string> names;
  for (const DeviceProfile& p : device_profiles()) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name;
    EXPECT_EQ(std::string(p.name).find('x'), std::string::npos) << p.name;
  }
}

TEST(DeviceProfiles, UnknownNameIsNullOrAnErrorListingTheKnownOnes) {
  EXPECT_EQ(find_device_profile("teensy40"), nullptr);
  EXPECT_EQ(find_device_profile("Teensy41"), nullptr);
  const std::string message =
      bad_input_message([] { (void)device_profile("teensy40", "somewhere"); });
  EXPECT_NE(message.find("somewhere"), std::string::npos) << message;
  EXPECT_NE(message.find("'teensy40'"), std::string::npos) << message;
  EXPECT_NE(message.find("teensy41, stm32h743, esp32s3, rp2040, nrf52840"), std::string::npos)
      << message;
}

TEST(DeviceProfiles, DeviceFromProfileCopiesEveryFigure) {
  const DeviceProfile& p = *find_device_profile("rp2040");
  const DeviceSpec d = device_from_profile(p, "node");
  EXPECT_EQ(d.name, "node");
  EXPECT_EQ(d.profile, "rp2040");
  EXPECT_EQ(d.ram_bytes, 270336);
  EXPECT_EQ(d.flash_bytes, 2097152);
  EXPECT_DOUBLE_EQ(d.macs_per_second, 133e6 / 16.0);
  EXPECT_EQ(d.link_bits_per_second, 10e6);
  EXPECT_EQ(d.link_latency_s, 200e-6);
  EXPECT_EQ(d.board, "");
  EXPECT_EQ(d.clock_hz, 133e6);
}

TEST(DeviceProfiles, KernelsCostWhatTheirMeasuredCoreTookTimesTheirCyclesPerInstruction) {
  // rp2040: the Cortex-M3's (an385) instruction counts, 1.4 cycles each.
  const DeviceSpec rp = device_from_profile(*find_device_profile("rp2040"), "rp");
  const CoreCosts& m3 = *find_core_costs("an385");
  ASSERT_EQ(rp.kernel_rates.size(), m3.kernels.size());
  for (size_t k = 0; k < m3.kernels.size(); ++k) {
    EXPECT_EQ(rp.kernel_rates[k].kernel, m3.kernels[k].kernel);
    EXPECT_DOUBLE_EQ(rp.kernel_rates[k].work_per_second,
                     133e6 / (m3.kernels[k].instructions_per_work * 1.4));
    EXPECT_DOUBLE_EQ(rp.kernel_rates[k].seconds_per_output,
                     m3.kernels[k].instructions_per_output * 1.4 / 133e6);
    EXPECT_DOUBLE_EQ(rp.kernel_rates[k].seconds_per_pixel,
                     m3.kernels[k].instructions_per_pixel * 1.4 / 133e6);
    EXPECT_DOUBLE_EQ(rp.kernel_rates[k].seconds_per_call,
                     m3.kernels[k].instructions_per_call * 1.4 / 133e6);
  }
  // An emulated board boots on itself and runs its own measured costs at the
  // -icount clock.
  const DeviceSpec m7 = device_from_profile(*find_device_profile("an500"), "m7");
  EXPECT_EQ(m7.board, "an500");
  EXPECT_EQ(m7.link_window_frames, 1);
  EXPECT_EQ(m7.link_frame_overhead_bytes, 90);
  EXPECT_DOUBLE_EQ(m7.macs_per_second, 7.8125e6 / kAn500PointwisePerMac);
  const KernelCost& pw = *std::find_if(
      find_core_costs("an500")->kernels.begin(), find_core_costs("an500")->kernels.end(),
      [](const KernelCost& k) { return k.kernel == std::string("pointwise"); });
  EXPECT_DOUBLE_EQ(kernel_seconds(m7, "pointwise", {1000, 10, 30, 5, 2}),
                   (1000 * pw.instructions_per_work + 10 * pw.instructions_per_output +
                    30 * pw.instructions_per_input + 5 * pw.instructions_per_pixel +
                    2 * pw.instructions_per_call) /
                       7.8125e6);
  // Every measured core has every kernel the registry names.
  const std::string all = known_kernel_names();
  for (const CoreCosts& core : measured_cores()) {
    std::string names;
    for (const KernelCost& k : core.kernels) {
      EXPECT_GT(k.instructions_per_work, 0) << core.board;
      EXPECT_TRUE(kernels::is_kernel_name(k.kernel)) << k.kernel;
      names += std::string(names.empty() ? "" : ", ") + k.kernel;
    }
    EXPECT_EQ(core.kernels.size(), static_cast<size_t>(std::count(all.begin(), all.end(), ',') + 1))
        << core.board << ": " << names;
  }
}

TEST(DeviceProfiles, BoardsAreKnownByName) {
  EXPECT_EQ(find_board_profile("an385")->name, std::string("an385"));
  EXPECT_EQ(find_board_profile("teensy41"), nullptr);
  EXPECT_EQ(find_board_profile("an521"), nullptr);
  EXPECT_EQ(known_board_names(), "an385, an386, an500, an505");
}

}  // namespace
}  // namespace mcusplit::plan
