#include "host/run_session.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "host/replan.h"
#include "host/run_devices.h"

namespace mcusplit::host {
namespace {

constexpr std::chrono::milliseconds kDefaultTimeout{2000};
// Emulated devices behind 10 KB/s UARTs: the coordinator may wait seconds for
// its next frame while the devices exchange theirs.
constexpr std::chrono::milliseconds kQemuDefaultTimeout{30000};
// ImageDelivery::Link: the rate the greeting's deadline allows for an image
// to cross an emulated UART (QEMU 7.2's carries 8 to 10 KB/s).
constexpr int64_t kLinkProvisionBytesPerMs = 4;

std::string read_plan_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open plan file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void check_modes(const RunRequest& r) {
  const bool qemu = r.targets == RunTargets::Qemu;
  if (qemu && !r.workers.empty()) {
    throw Error("--targets qemu boots its own emulated devices: --workers does not apply");
  }
  if (r.delivery && !qemu) {
    throw Error("--provision says how emulated devices get their images: it needs --targets qemu");
  }
  if (r.icount && !qemu) {
    throw Error("--icount counts instructions of emulated devices: it needs --targets qemu");
  }
  if (qemu && r.topology == RunTopology::Switched) {
    throw Error(
        "--targets qemu runs the star topology only: an emulated device has one serial "
        "link, to the coordinator");
  }
}

}  // namespace

RunSession::RunSession(RunRequest request) : request_(std::move(request)) {
  const RunRequest& r = request_;
  if (r.repeat < 1) throw Error("--repeat must be at least 1");
  if (r.timeout && r.timeout->count() <= 0) throw Error("--timeout must be positive");
  if (r.on_failure == OnFailure::Replan && !r.model) {
    throw Error(
        "--on-failure replan needs --model MODEL.mq|MODEL.tflite: the plan holds only weight "
        "slices");
  }
  plan_bytes_ = read_plan_bytes(r.plan_path);
  file_ = plan::parse_plan(plan_bytes_, r.plan_path);
  if (r.model) {
    if (plan::model_hash(r.model->graph) != file_.plan.model_hash) {
      throw Error("'" + r.model->path + "' is not the model '" + r.plan_path + "' was planned for");
    }
    full_graph_ = r.model->graph;
  }
  check_modes(r);
  if (!r.workers.empty() && static_cast<int>(r.workers.size()) != file_.plan.device_count()) {
    throw Error("the plan has " + std::to_string(file_.plan.device_count()) +
                " devices but --workers lists " + std::to_string(r.workers.size()) + " addresses");
  }
}

CoordinatorOptions RunSession::coordinator_options() const {
  const RunRequest& r = request_;
  const bool qemu = r.targets == RunTargets::Qemu;
  CoordinatorOptions options;
  options.repeat = r.repeat;
  options.star = r.topology == RunTopology::FromPlan
                     ? file_.plan.cluster.topology == plan::Topology::Star
                     : r.topology == RunTopology::Star;
  options.receive_timeout = r.timeout.value_or(qemu ? kQemuDefaultTimeout : kDefaultTimeout);
  if (!qemu) return options;
  // The devices hold their images (loaded by QEMU) or get them over the
  // link, and talk over their UART: every frame through the coordinator, the
  // firmware's banner skipped.
  const bool over_link = r.delivery == ImageDelivery::Link;
  options.star = true;
  options.preprovisioned = !over_link;
  options.serial_links = true;
  options.setup_timeout = std::max(options.setup_timeout, options.receive_timeout);
  if (over_link) {
    // The greeting waits for the largest image to cross its UART.
    int64_t largest = 0;
    for (const plan::ParticipantPlan& pp : file_.plan.participants) {
      largest = std::max(largest, pp.weight_bytes);
    }
    options.setup_timeout += std::chrono::milliseconds(largest / kLinkProvisionBytesPerMs);
  }
  return options;
}

RunOutcome RunSession::run(const std::vector<int8_t>& input) {
  const CoordinatorOptions options = coordinator_options();
  RunDevices devices(request_, file_);
  RunOutcome out;
  out.star = options.star;
  try {
    out.run = run_distributed(file_, devices.addresses(), input, options);
  } catch (const DeviceLostError& e) {
    const std::string said = devices.failure_notes(file_, e.what());
    if (request_.on_failure != OnFailure::Replan) {
      throw DeviceLostError(e.what() + said, e.device());
    }
    // Re-plan onto the devices left and run again from the first inference.
    const int lost = e.device();
    const std::string lost_name = file_.plan.participants[static_cast<size_t>(lost)].name;
    fmt::print(stderr, "mcusplit: {}\nmcusplit: re-planning onto the {} devices left\n", e.what(),
               file_.plan.device_count() - 1);
    const plan::Plan again = replan_without(file_, full_graph_, lost);
    plan_bytes_ = plan::serialize_plan(again, full_graph_);
    file_ = plan::parse_plan(plan_bytes_, "the re-made plan");
    devices.restart_without(file_, lost);
    try {
      out.run = run_distributed(file_, devices.addresses(), input, options);
    } catch (const Error& again_failed) {
      throw Error(again_failed.what() + devices.failure_notes(file_, again_failed.what()),
                  again_failed.exit_code());
    }
    out.run.replanned_without = lost_name;
  } catch (const Error& e) {
    throw Error(e.what() + devices.failure_notes(file_, e.what()), e.exit_code());
  }
  devices.require_clean_shutdown(file_, options.receive_timeout);
  out.latency = summarize_latencies(out.run.latency_s);
  return out;
}

}  // namespace mcusplit::host
