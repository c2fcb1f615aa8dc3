// `mcusplit calibrate`'s pieces: the kernel bench's lines parsed into cases
// (host/kernel_calibration.h), each kernel's cost fitted over its cases, and
// where each board's firmware lies (host/board_firmware.h).
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "host/board_firmware.h"
#include "host/kernel_calibration.h"

namespace mcusplit::host {
namespace {

// 40 ns ticks (25 MHz) under -icount shift=7: 128 ns an instruction.
constexpr double kTickNs = 40;

std::string line(const std::string& name, const std::string& kernel, int64_t work, int64_t outputs,
                 int64_t calls, int64_t instructions) {
  // ticks such that ticks * 40 / 128 = instructions.
  return "kernel-bench: " + name + " kernel=" + kernel + " macs=" + std::to_string(work) +
         " work=" + std::to_string(work) + " outputs=" + std::to_string(outputs) + " inputs=7" +
         " pixels=5 calls=" + std::to_string(calls) +
         " ticks=" + std::to_string(instructions * 16 / 5) + " clamped=0/1 scratch=0 ok\n";
}

TEST(KernelBench, CasesAreParsedWithTheirInstructions) {
  const std::string out =
      "mcusplit-fw: kernel bench\n"
      "kernel-bench: calibration loop_instructions=1000 ticks=3200\n" +
      line("pw_a", "pointwise", 1000, 100, 1, 2500) + line("dw_b", "depthwise", 900, 100, 4, 9000) +
      "kernel-bench: done cases=2 mismatches=0 max_scratch=0\n";
  const std::vector<KernelBenchCase> cases = parse_kernel_bench(out, kTickNs);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].name, "pw_a");
  EXPECT_EQ(cases[0].kernel, "pointwise");
  EXPECT_EQ(cases[0].work, 1000);
  EXPECT_EQ(cases[0].outputs, 100);
  EXPECT_EQ(cases[0].inputs, 7);
  EXPECT_EQ(cases[0].pixels, 5);
  EXPECT_EQ(cases[0].calls, 1);
  EXPECT_EQ(cases[0].instructions, 2500);
  EXPECT_EQ(cases[1].calls, 4);
  EXPECT_EQ(cases[1].instructions, 9000);
}

TEST(KernelBench, AFailedCaseOrATruncatedRunIsAnError) {
  const std::string good = line("pw_a", "pointwise", 1000, 100, 1, 2500);
  const std::string mismatch =
      "kernel-bench: pw_a kernel=pointwise macs=1 work=1 outputs=1 calls=1 ticks=9 MISMATCH=3\n";
  EXPECT_THROW(parse_kernel_bench(mismatch + "kernel-bench: done cases=1\n", kTickNs), Error);
  EXPECT_THROW(parse_kernel_bench(good, kTickNs), Error);  // no done line
  EXPECT_THROW(parse_kernel_bench("kernel-bench: done cases=0\n", kTickNs), Error);
  // A case line without the counts the fit needs.
  EXPECT_THROW(parse_kernel_bench("kernel-bench: x kernel=add macs=0 work=3 ticks=1 ok\n"
                                  "kernel-bench: done cases=1\n",
                                  kTickNs),
               Error);
  EXPECT_THROW(parse_kernel_bench("kernel-bench: x kernel=add macs=0 work=zero ticks=1 ok\n"
                                  "kernel-bench: done cases=1\n",
                                  kTickNs),
               Error);
}

TEST(KernelBench, EachKernelsCostIsFittedPerWorkPerOutputPerPixelAndPerCall) {
  // Cases made exactly of 2 per work unit, 30 per output, 5 per input, 70
  // per output position and 200 per call.
  std::vector<KernelBenchCase> cases;
  const int64_t shapes[][5] = {{1000, 100, 50, 10, 1},  {5000, 100, 50, 10, 1},
                               {2000, 800, 50, 10, 1},  {2000, 800, 50, 10, 16},
                               {2000, 800, 400, 40, 4}, {2000, 800, 400, 400, 4}};
  for (const auto& s : shapes) {
    cases.push_back(KernelBenchCase{"c", "pointwise", s[0], s[0], s[1], s[2], s[3], s[4],
                                    2 * s[0] + 30 * s[1] + 5 * s[2] + 70 * s[3] + 200 * s[4]});
  }
  // A kernel whose cost is its work alone.
  cases.push_back(KernelBenchCase{"a1", "add", 0, 300, 100, 200, 100, 1, 4800});
  cases.push_back(KernelBenchCase{"a2", "add", 0, 600, 200, 400, 200, 1, 9600});
  const auto fits = fit_kernel_costs(cases);
  ASSERT_EQ(fits.size(), 2u);
  const KernelFit& pw = fits.at("pointwise");
  EXPECT_NEAR(pw.per_work, 2, 1e-9);
  EXPECT_NEAR(pw.per_output, 30, 1e-7);
  EXPECT_NEAR(pw.per_input, 5, 1e-7);
  EXPECT_NEAR(pw.per_pixel, 70, 1e-6);
  EXPECT_NEAR(pw.per_call, 200, 1e-6);
  EXPECT_LT(pw.worst_error, 1e-12);
  const KernelFit& add = fits.at("add");
  EXPECT_NEAR(add.per_work + add.per_output / 3 + add.per_input * 2 / 3 + add.per_pixel / 3 +
                  add.per_call / 300,
              16, 1e-6);
  EXPECT_GE(add.per_output, 0);
  EXPECT_GE(add.per_call, 0);
  EXPECT_LT(add.worst_error, 1e-9);
}

TEST(KernelBench, NoCoefficientIsNegative) {
  // Fitted freely, these would want a negative cost per call.
  const std::vector<KernelBenchCase> cases = {{"x", "conv", 0, 1000, 10, 10, 10, 1, 1000},
                                              {"y", "conv", 0, 2000, 10, 10, 10, 1, 3000},
                                              {"z", "conv", 0, 3000, 10, 10, 10, 1, 5000}};
  const KernelFit fit = fit_kernel_costs(cases).at("conv");
  EXPECT_GT(fit.per_work, 0);
  EXPECT_GE(fit.per_output, 0);
  EXPECT_GE(fit.per_input, 0);
  EXPECT_GE(fit.per_pixel, 0);
  EXPECT_GE(fit.per_call, 0);
}

TEST(BoardFirmware, EachBoardHasItsDirectoryBesideTheDefault) {
  const std::string root = firmware_root("/b/release/firmware-device/mcusplit_fw_device.elf");
  EXPECT_EQ(root, "/b/release");
  EXPECT_EQ(firmware_root("/elsewhere/my.elf"), "");
  EXPECT_EQ(board_firmware(root, "an500", false),
            "/b/release/firmware-device/mcusplit_fw_device.elf");
  EXPECT_EQ(board_firmware(root, "an385", true),
            "/b/release/firmware-an385/mcusplit_fw_device_eth.elf");
  EXPECT_EQ(board_kernel_bench(root, "an505"),
            "/b/release/firmware-an505/mcusplit_fw_kernel_bench.elf");
}

}  // namespace
}  // namespace mcusplit::host
