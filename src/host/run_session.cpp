#include "host/run_session.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "host/cluster_key.h"
#include "host/ethernet_addresses.h"
#include "host/ethernet_bridge.h"
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

// The first shaping option `s` sets, as the command line names it.
const char* shaping_option(const LinkShaping& s) {
  if (s.rate_bits_per_s) return "--link-rate";
  if (s.delay_ms) return "--link-delay";
  return "--loss";
}

void check_shaping(const LinkShaping& s) {
  if (s.rate_bits_per_s && *s.rate_bits_per_s <= 0) {
    throw Error("--link-rate must be positive (bits per second), got " +
                std::to_string(*s.rate_bits_per_s));
  }
  if (s.delay_ms && *s.delay_ms < 0) {
    throw Error("--link-delay must be at least 0 ms, got " + std::to_string(*s.delay_ms));
  }
  if (s.loss && !(*s.loss >= 0 && *s.loss < 1)) {
    throw Error(fmt::format("--loss is the fraction of frames lost: at least 0 and below 1, got {}",
                            *s.loss));
  }
}

void check_modes(const RunRequest& r) {
  const bool qemu = r.targets == RunTargets::Qemu;
  const bool ethernet = r.link == RunLink::Ethernet;
  if (qemu && !r.workers.empty()) {
    throw Error("--targets qemu boots its own emulated devices: --workers does not apply");
  }
  if (r.delivery && !qemu) {
    throw Error("--provision says how emulated devices get their images: it needs --targets qemu");
  }
  if (r.icount && !qemu) {
    throw Error("--icount counts instructions of emulated devices: it needs --targets qemu");
  }
  if (r.link && !qemu) {
    throw Error("--link says how emulated devices are linked: it needs --targets qemu");
  }
  if (r.shaping.any() && !ethernet) {
    throw Error(std::string(shaping_option(r.shaping)) +
                " shapes the links of an emulated Ethernet: it needs --link ethernet");
  }
  check_shaping(r.shaping);
  if (ethernet && r.delivery == ImageDelivery::Loader) {
    throw Error(
        "--provision loader does not go with --link ethernet: devices on Ethernet always get "
        "their images over the link");
  }
  if (qemu && !ethernet && r.topology == RunTopology::Switched) {
    throw Error(
        "--targets qemu runs the star topology only: an emulated device has one serial "
        "link, to the coordinator (--link ethernet runs either)");
  }
}

// Every frame of the plan must fit one Ethernet frame.
void check_fits_ethernet(const plan::Plan& p) {
  if (p.max_payload_bytes > static_cast<int64_t>(kEthernetMaxPayload)) {
    throw Error("the plan's frames carry up to " + std::to_string(p.max_payload_bytes) +
                " payload bytes but one Ethernet frame holds " +
                std::to_string(kEthernetMaxPayload) + ": it cannot run with --link ethernet");
  }
  if (p.device_count() > kMaxEthernetDevices) {
    throw Error("the plan has " + std::to_string(p.device_count()) +
                " devices but an Ethernet run numbers at most " +
                std::to_string(kMaxEthernetDevices));
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
  // Read once, here: bad input before anything starts.
  if (!r.key_file.empty()) key_ = read_cluster_key(r.key_file);
  plan_bytes_ = read_plan_bytes(r.plan_path);
  file_ = plan::parse_plan(plan_bytes_, r.plan_path);
  if (r.model) {
    if (plan::model_hash(r.model->graph) != file_.plan.model_hash) {
      throw Error("'" + r.model->path + "' is not the model '" + r.plan_path + "' was planned for");
    }
    full_graph_ = r.model->graph;
  }
  check_modes(r);
  if (r.link == RunLink::Ethernet) check_fits_ethernet(file_.plan);
  if (r.targets == RunTargets::Qemu && r.link == RunLink::Ethernet && !r.key_file.empty()) {
    // Said, not refused: the images are still authenticated.
    fmt::print(stderr,
               "mcusplit: note: on the emulated Ethernet --key-file authenticates the devices' "
               "images; their frames are not tagged (docs/firmware.md, \"The cluster key\")\n");
  }
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
  options.keep_traces = r.trace;
  options.star = r.topology == RunTopology::FromPlan
                     ? file_.plan.cluster.topology == plan::Topology::Star
                     : r.topology == RunTopology::Star;
  options.receive_timeout = r.timeout.value_or(qemu ? kQemuDefaultTimeout : kDefaultTimeout);
  options.key = key_;
  // Emulated devices on Ethernet check images only: the bridge acknowledges
  // their frames for the coordinator and knows no link's nonce.
  options.tag_frames = !(qemu && r.link == RunLink::Ethernet);
  if (!qemu) return options;
  // The devices hold their images (loaded by QEMU) or get them over the
  // link, and talk over their UART: every frame through the coordinator, the
  // firmware's banner skipped. On Ethernet they always get them over the
  // link, and the coordinator's connections to the bridge carry each
  // device's frames as a serial link would; the Provision message tells each
  // device the MAC of every participant, and so the topology.
  const bool ethernet = r.link == RunLink::Ethernet;
  const bool over_link = ethernet || r.delivery == ImageDelivery::Link;
  if (ethernet) {
    options.provision_addresses =
        ethernet_provision_addresses(file_.plan.device_count(), options.star);
  } else {
    options.star = true;
  }
  options.preprovisioned = !over_link;
  options.serial_links = true;
  options.setup_timeout = std::max(options.setup_timeout, options.receive_timeout);
  if (over_link) {
    // The greeting waits for the largest image to cross its UART (an
    // Ethernet link is faster, unless --link-rate makes it slower: then twice
    // the time at that rate).
    int64_t largest = 0;
    for (const plan::ParticipantPlan& pp : file_.plan.participants) {
      largest = std::max(largest, pp.weight_bytes);
    }
    int64_t allowance_ms = largest / kLinkProvisionBytesPerMs;
    if (ethernet && r.shaping.rate_bits_per_s) {
      allowance_ms = std::max(allowance_ms, 2 * largest * 8 * 1000 / *r.shaping.rate_bits_per_s);
    }
    options.setup_timeout += std::chrono::milliseconds(allowance_ms);
  }
  return options;
}

RunOutcome RunSession::run(const std::vector<int8_t>& input) {
  CoordinatorOptions options = coordinator_options();
  RunDevices devices(request_, file_, options.receive_timeout, key_);
  options.link_layer = devices.link_layer();
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
    // Options that depend on the plan's devices (the address list) follow it.
    options = coordinator_options();
    options.link_layer = devices.link_layer();
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
