// `mcusplit calibrate --board BOARD [-o PROFILE.json] [--firmware ELF]`: the
// instructions each kernel takes per work unit, output, input, output
// position and call on an
// emulated board (fitted over the cases), from its
// kernel bench firmware under QEMU -icount (host/kernel_calibration.h),
// written as a measured profile a cluster file's device entry can name
// ("calibration": FILE; docs/cluster.md, "Measured cores").
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "host/board_firmware.h"
#include "host/kernel_calibration.h"
#include "host/qemu_launcher.h"
#include "model/file_io.h"
#include "plan/device_profiles.h"

namespace mcusplit::cli {
namespace {

struct CalibrateArgs {
  std::string board;
  std::string output;
  std::string firmware;
  int timeout_s = 300;
};

nlohmann::json profile_json(const host::BoardCalibration& c) {
  nlohmann::json cycles = nlohmann::json::object();
  nlohmann::json worst = nlohmann::json::object();
  for (const auto& [kernel, fit] : host::fit_kernel_costs(c.cases)) {
    cycles[kernel] = {{"work", fit.per_work},
                      {"output", fit.per_output},
                      {"input", fit.per_input},
                      {"pixel", fit.per_pixel},
                      {"call", fit.per_call}};
    worst[kernel] = fit.worst_error;
  }
  nlohmann::json cases = nlohmann::json::array();
  for (const host::KernelBenchCase& k : c.cases) {
    cases.push_back({{"name", k.name},
                     {"kernel", k.kernel},
                     {"macs", k.macs},
                     {"work", k.work},
                     {"outputs", k.outputs},
                     {"inputs", k.inputs},
                     {"pixels", k.pixels},
                     {"calls", k.calls},
                     {"instructions", k.instructions}});
  }
  // Under -icount shift=7 a guest instruction takes 128 ns of virtual time:
  // the emulated core runs 7.8125 M instructions a second, one per cycle.
  return {{"board", c.board},
          {"qemu_machine", c.machine},
          {"clock_hz", 1e9 / static_cast<double>(int64_t{1} << host::kIcountShift)},
          {"kernel_cycles", cycles},
          // How far the fit is from the cases it was fitted to.
          {"largest_fit_error", worst},
          {"cases", cases}};
}

}  // namespace

void add_calibrate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "calibrate", "Measure each kernel's instructions per work unit on an emulated board");
  auto args = std::make_shared<CalibrateArgs>();
  cmd->add_option("--board", args->board, "an385, an386, an500 or an505")->required();
  cmd->add_option("-o,--output", args->output, "Profile JSON to write (default: print it)");
  cmd->add_option("--firmware", args->firmware,
                  "The kernel bench ELF (default: the board's, built with mcusplit)");
  cmd->add_option("--timeout", args->timeout_s, "Seconds before QEMU is stopped")
      ->capture_default_str();
  cmd->callback([args] {
    if (plan::find_board_profile(args->board) == nullptr) {
      throw Error("unknown board '" + args->board + "' (known: " + plan::known_board_names() + ")");
    }
    std::string elf = args->firmware;
    if (elf.empty()) {
      const std::string root = host::firmware_root(MCUSPLIT_FIRMWARE_ELF);
      if (root.empty()) {
        throw Error(
            "cannot calibrate: this mcusplit was built without the boards' firmware "
            "(install gcc-arm-none-eabi and rebuild, or give --firmware ELF)");
      }
      elf = host::board_kernel_bench(root, args->board);
    }
    const host::BoardCalibration c =
        host::calibrate_board(host::default_qemu(), elf, std::chrono::seconds(args->timeout_s));
    if (c.board != args->board) {
      throw Error("the kernel bench '" + elf + "' is built for board " + c.board + ", not " +
                  args->board);
    }
    const std::string text = profile_json(c).dump(2) + "\n";
    if (args->output.empty()) {
      fmt::print("{}", text);
    } else {
      model::write_file_atomically(args->output, text, "calibration profile ");
      fmt::print("wrote {} ({} cases on {})\n", args->output, c.cases.size(), c.machine);
    }
  });
}

}  // namespace mcusplit::cli
