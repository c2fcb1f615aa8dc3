// What `mcusplit run` is asked to do, its modes parsed (host/run_modes.h):
// the input of a RunSession.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "host/link_shaping.h"
#include "host/run_modes.h"
#include "host/socket_io.h"
#include "quant/qgraph.h"

namespace mcusplit::host {

// The model a plan was made from, read by the caller (the CLI reads .mq and
// .tflite files alike), so the run session need not know model formats.
struct RunModel {
  std::string path;  // named in errors
  quant::QGraph graph;
};

struct RunRequest {
  std::string plan_path;  // a plan file (mcusplit plan -o)
  // The model the plan was made from; unset = none (OnFailure::Replan needs it).
  std::optional<RunModel> model;
  RunTargets targets = RunTargets::Workers;
  // Running workers in device order (Workers only); empty: started here.
  std::vector<SocketAddress> workers;
  RunTopology topology = RunTopology::FromPlan;
  // Qemu only; unset: Loader (Link with RunLink::Ethernet). Set for Workers
  // is bad input.
  std::optional<ImageDelivery> delivery;
  // Qemu only; unset: Uart. Set for Workers is bad input.
  std::optional<RunLink> link;
  // RunLink::Ethernet only: each device's link shaped (a wirefilter).
  LinkShaping shaping;
  OnFailure on_failure = OnFailure::Stop;
  std::string firmware;  // Qemu: the device firmware ELF (for the link: ethernet_firmware)
  // Qemu: the build directory of every board's firmware (board_firmware.h),
  // for the devices the plan puts on a board; "" = none built.
  std::string firmware_root;
  bool icount = false;   // Qemu: -icount, instruction counts per layer
  int repeat = 1;        // inferences
  bool trace = false;    // keep every inference's spans
  // Receive timeout; unset: 2 s, or 30 s for emulated devices.
  std::optional<std::chrono::milliseconds> timeout;
  // --key-file: the cluster key file; its key tags every device image
  // (workers started here get the file too). "": none.
  std::string key_file;
};

// "A.B.C.D:PORT,..." (--workers): the addresses in order. Throws
// mcusplit::Error (bad input) on a malformed or repeated address.
std::vector<SocketAddress> parse_worker_list(const std::string& list);

}  // namespace mcusplit::host
