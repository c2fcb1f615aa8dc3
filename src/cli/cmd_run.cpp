// `mcusplit run PLAN --input FILE [--output FILE.pb] [--workers ADDR,...]
//  [--targets workers|qemu [--firmware ELF] [--icount] [--provision loader|link]
//   [--link uart|ethernet [--link-rate BIT/S] [--link-delay MS] [--loss P]]]
//  [--topology switched|star] [--repeat N] [--json]`: runs a
// plan file on worker processes over TCP, started on loopback here unless
// --workers names running ones, or (--targets qemu) on emulated Cortex-M7
// microcontrollers, one QEMU per device booted with its device image, each
// on its UART or (--link ethernet) all on one emulated switched Ethernet.
// The run itself is host::RunSession's; this file parses the command line
// into its request and writes out what it returns.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/input_loading.h"
#include "cli/mq_model.h"
#include "cli/run_report.h"
#include "host/chrome_trace.h"
#include "host/board_firmware.h"
#include "host/qemu_launcher.h"
#include "host/run_session.h"
#include "model/file_io.h"
#include "model/tensor_io.h"
#include "quant/layout.h"

namespace mcusplit::cli {
namespace {

// The command line as CLI11 fills it in; the modes stay words until
// to_request() parses them.
struct RunArgs {
  std::string plan;
  std::string input;
  std::string output;
  std::string workers;
  std::string topology;
  std::string trace;
  std::string on_failure = "stop";
  std::string model;
  std::string key_file;
  std::string targets = "workers";
  std::string firmware = MCUSPLIT_FIRMWARE_ELF;
  std::string link = "uart";  // --targets qemu: how the devices are linked
  int64_t link_rate = 0;      // --link ethernet: bits per second per device link
  int64_t link_delay_ms = 0;
  double loss = 0;
  int repeat = 1;
  int timeout_ms = 2000;
  bool timeout_given = false;    // --timeout on the command line
  bool provision_given = false;  // --provision on the command line
  bool firmware_given = false;   // --firmware on the command line
  bool link_given = false;
  bool link_rate_given = false;
  bool link_delay_given = false;
  bool loss_given = false;
  bool json = false;
  bool icount = false;               // --targets qemu: instruction counts per layer (-icount)
  std::string provision = "loader";  // --targets qemu: how images reach the devices
  ImageOptions image;
};

host::RunRequest to_request(const RunArgs& a) {
  host::RunRequest r;
  r.plan_path = a.plan;
  if (!a.model.empty()) r.model = host::RunModel{a.model, read_int8_model(a.model)};
  r.targets = host::parse_run_targets(a.targets);
  r.workers = host::parse_worker_list(a.workers);
  r.topology = host::parse_run_topology(a.topology);
  if (a.provision_given) r.delivery = host::parse_image_delivery(a.provision);
  if (a.link_given) r.link = host::parse_run_link(a.link);
  if (a.link_rate_given) r.shaping.rate_bits_per_s = a.link_rate;
  if (a.link_delay_given) r.shaping.delay_ms = a.link_delay_ms;
  if (a.loss_given) r.shaping.loss = a.loss;
  r.on_failure = host::parse_on_failure(a.on_failure);
  // The default firmware is the UART build; devices on Ethernet boot the
  // Ethernet build beside it. One given on the command line is used as is.
  const bool ethernet = r.link == host::RunLink::Ethernet;
  r.firmware = ethernet && !a.firmware_given ? host::ethernet_firmware(a.firmware) : a.firmware;
  r.firmware_root = host::firmware_root(MCUSPLIT_FIRMWARE_ELF);
  r.icount = a.icount;
  r.repeat = a.repeat;
  r.trace = !a.trace.empty();
  if (a.timeout_given) r.timeout = std::chrono::milliseconds(a.timeout_ms);
  r.key_file = a.key_file;
  return r;
}

// The trace and the output tensor files the run was asked for.
void write_run_files(const RunArgs& a, const host::RunSession& session,
                     const host::RunOutcome& outcome) {
  const plan::PlanFile& file = session.plan();
  if (!a.trace.empty()) {
    model::write_file_atomically(a.trace, host::chrome_trace_json(file, outcome.run.traces),
                                 "trace ");
  }
  if (!a.output.empty()) {
    const quant::QTensor& out_t = file.graph.tensors[static_cast<size_t>(file.graph.output)];
    model::write_int8_tensor_file(a.output, out_t.name, onnx_dims(out_t.shape),
                                  quant::nhwc_to_nchw(out_t.shape, outcome.run.output));
  }
}

void run_run(const RunArgs& a) {
  host::RunSession session(to_request(a));
  const std::vector<int8_t> input =
      load_int8_input(session.plan().graph, a.input, a.image.preprocessing());
  const host::RunOutcome outcome = session.run(input);
  write_run_files(a, session, outcome);
  if (a.json) {
    fmt::print("{}\n", run_json(session, outcome).dump(2));
    return;
  }
  print_run_table(session, outcome);
  if (!a.output.empty()) fmt::print("wrote {}\n", a.output);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "run", "Run a plan on worker processes over TCP or on emulated microcontrollers");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("plan", args->plan, "Plan file from mcusplit plan -o")->required();
  cmd->add_option("--input", args->input, "Input: TensorProto .pb or image")->required();
  cmd->add_option("--output", args->output, "Write the int8 output as a TensorProto .pb");
  cmd->add_option("--workers", args->workers,
                  "Running workers, A.B.C.D:PORT,... in device order (default: start them here)");
  cmd->add_option("--targets", args->targets,
                  "workers: mcusplit worker processes; qemu: one emulated MCU per device "
                  "(qemu-system-arm, the device firmware; a Cortex-M7 unless the plan puts the "
                  "device on another board; star topology over UART, or --link ethernet)")
      ->check(CLI::IsMember({"workers", "qemu"}))
      ->capture_default_str();
  CLI::Option* firmware =
      cmd->add_option("--firmware", args->firmware,
                      "--targets qemu: the device firmware ELF for devices without a board (default: "
                      "the one built with mcusplit; with --link ethernet its Ethernet build beside "
                      "it)")
          ->capture_default_str();
  CLI::Option* link =
      cmd->add_option("--link", args->link,
                      "--targets qemu: uart: each device's UART to the coordinator (star); "
                      "ethernet: every device's LAN9118 on one emulated switch (vde_switch), the "
                      "coordinator on it too, images always over the link")
          ->check(CLI::IsMember({"uart", "ethernet"}))
          ->capture_default_str();
  CLI::Option* link_rate =
      cmd->add_option("--link-rate", args->link_rate,
                      "--link ethernet: each device link's rate in bits per second (wirefilter)");
  CLI::Option* link_delay = cmd->add_option(
      "--link-delay", args->link_delay_ms,
      "--link ethernet: each device link's delay in milliseconds, each way (wirefilter)");
  CLI::Option* loss = cmd->add_option(
      "--loss", args->loss,
      "--link ethernet: the fraction of frames each device link loses, each way, in [0, 1) "
      "(wirefilter; lost frames are sent again)");
  CLI::Option* provision =
      cmd->add_option("--provision", args->provision,
                      "--targets qemu: loader: QEMU loads each device image into flash before "
                      "reset; link: the coordinator sends it over the device's UART at boot")
          ->check(CLI::IsMember({"loader", "link"}))
          ->capture_default_str();
  cmd->add_option("--topology", args->topology,
                  "switched: devices send to each other (workers; --link ethernet); star: "
                  "every frame through the coordinator (default: the plan's topology)")
      ->check(CLI::IsMember({"switched", "star"}));
  cmd->add_option("--repeat", args->repeat, "Inferences to run")->capture_default_str();
  CLI::Option* timeout =
      cmd->add_option("--timeout", args->timeout_ms,
                      "Receive timeout in milliseconds (--targets qemu: 30000 unless given)")
          ->capture_default_str();
  cmd->add_option("--trace", args->trace,
                  "Write a Chrome trace-event JSON (one track per device; Perfetto opens it)");
  cmd->add_option("--on-failure", args->on_failure,
                  "stop: a device lost ends the run; replan: re-plan onto the devices left and "
                  "run again (needs --model)")
      ->check(CLI::IsMember({"stop", "replan"}))
      ->capture_default_str();
  cmd->add_option("--model", args->model,
                  "The .mq or .tflite model the plan was made from (for --on-failure replan)");
  cmd->add_option("--key-file", args->key_file,
                  "The cluster key (mcusplit keygen): every frame and device image carries its "
                  "tag, and workers started here check it");
  cmd->add_flag("--json", args->json, "Print the output's top-1, latencies and per-device figures");
  cmd->add_flag("--icount", args->icount,
                "--targets qemu: run QEMU with -icount shift=7 and report each device's "
                "instructions per layer (deterministic; times become virtual time)");
  add_image_options(cmd, &args->image);
  cmd->callback([args, timeout, provision, firmware, link, link_rate, link_delay, loss] {
    args->timeout_given = timeout->count() > 0;
    args->provision_given = provision->count() > 0;
    args->firmware_given = firmware->count() > 0;
    args->link_given = link->count() > 0;
    args->link_rate_given = link_rate->count() > 0;
    args->link_delay_given = link_delay->count() > 0;
    args->loss_given = loss->count() > 0;
    run_run(*args);
  });
}

}  // namespace mcusplit::cli
