// `mcusplit calibrate`: what each kernel costs an emulated core, measured.
// Boots a board's kernel bench firmware (firmware/kernel_bench_main.cpp)
// under QEMU -icount shift=kIcountShift, where each guest instruction takes
// 128 ns of virtual time and the board's timer counts virtual time, so the
// ticks a case takes give its instructions exactly; and fits each kernel's
// instructions to its work units (the cost model's units), outputs, inputs,
// output positions and calls over every case of that kernel. docs/cluster.md, "Measured
// cores".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mcusplit::host {

struct KernelBenchCase {
  std::string name;    // the case, e.g. "pw_expand_16x96_24x24"
  std::string kernel;  // the registry's kernel name, e.g. "pointwise"
  int64_t macs = 0;
  int64_t work = 0;
  int64_t outputs = 0;  // values written, over its calls
  int64_t inputs = 0;   // values read, over its calls
  int64_t pixels = 0;   // output positions (rows x columns), over its calls
  int64_t calls = 1;    // kernel invocations
  int64_t instructions = 0;
};

// The cases of a kernel bench run's output: lines
//   kernel-bench: NAME kernel=K macs=N work=W outputs=N inputs=N pixels=N calls=N ticks=T ... ok
// with ticks of `tick_ns` nanoseconds. Throws mcusplit::Error (exit code 1)
// naming the line if a case failed its check (MISMATCH) or a line is
// malformed, or if there are no cases or no "done" line.
std::vector<KernelBenchCase> parse_kernel_bench(const std::string& output, double tick_ns);

// A kernel's instructions as a*work + b*outputs + c*inputs + d*pixels +
// e*calls, fitted over its cases (least squares of the relative error, every
// coefficient >= 0), and the largest relative error of the fit over them.
struct KernelFit {
  double per_work = 0;
  double per_output = 0;
  double per_input = 0;
  double per_pixel = 0;
  double per_call = 0;
  double worst_error = 0;
};
std::map<std::string, KernelFit> fit_kernel_costs(const std::vector<KernelBenchCase>& cases);

struct BoardCalibration {
  std::string board;    // BOARD of the firmware's layout
  std::string machine;  // QEMU_MACHINE
  std::vector<KernelBenchCase> cases;
};

// Runs `kernel_bench_elf` (its firmware_layout.env beside it gives the
// machine and the timer's clock) under `qemu`, killed after `timeout`.
// Throws mcusplit::Error: exit code 2 if the emulator or the firmware is
// missing, 1 if the run fails.
BoardCalibration calibrate_board(const std::string& qemu, const std::string& kernel_bench_elf,
                                 std::chrono::seconds timeout);

}  // namespace mcusplit::host
