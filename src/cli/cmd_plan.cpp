// `mcusplit plan MODEL.mq (--devices SPEC | --cluster FILE) [--ram SIZE]
//  [--topology T] [--strategy auto|paper] [--objective latency|memory]
//  [--max-payload BYTES] [-o PLAN] [--report REPORT.html] [--json]` and
//  `mcusplit plan --dump PLAN`.
#include <fmt/core.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/mq_model.h"
#include "common/error.h"
#include "device/protocol.h"
#include "plan/byte_size.h"
#include "plan/cluster_file.h"
#include "plan/devices_shorthand.h"
#include "plan/plan_checker.h"
#include "plan/plan_file.h"
#include "plan/plan_json.h"
#include "plan/plan_report.h"
#include "plan/planner.h"
#include "quant/mq_format.h"

namespace mcusplit::cli {
namespace {

struct PlanArgs {
  std::string model;
  std::string devices;
  std::string cluster;
  std::string ram;
  std::string topology;
  std::string strategy = "auto";
  std::string objective = "latency";
  std::string output;
  std::string report;
  std::string dump;
  bool json = false;
  bool no_count_search = false;
  int64_t max_payload = device::kDefaultMaxPayload;
};

plan::ClusterSpec load_cluster(const PlanArgs& a) {
  if (a.devices.empty() == a.cluster.empty()) {
    throw Error("give the cluster with exactly one of --devices SPEC or --cluster FILE");
  }
  plan::ClusterSpec cluster = a.devices.empty() ? plan::read_cluster_file(a.cluster)
                                                : plan::parse_devices_shorthand(a.devices);
  if (!a.ram.empty()) plan::apply_ram_override(cluster, plan::parse_byte_size(a.ram));
  if (!a.topology.empty()) cluster.topology = plan::parse_topology(a.topology);
  plan::validate_cluster(cluster, a.devices.empty() ? a.cluster : "--devices");
  return cluster;
}

// The layers participant `index` computes a box of: where a slow device is
// better left out of a layer, the plan leaves it out, and says so here.
int layers_computed(const plan::Plan& p, size_t index) {
  int n = 0;
  for (const plan::LayerPlan& l : p.layers) n += index < l.boxes.size() && !l.boxes[index].empty();
  return n;
}

nlohmann::json summary_json(const plan::Plan& p, uint64_t hash) {
  nlohmann::json devices = nlohmann::json::array();
  for (size_t i = 0; i < p.participants.size(); ++i) {
    const plan::ParticipantPlan& d = p.participants[i];
    devices.push_back({{"name", d.name},
                       {"coordinator", d.coordinator},
                       {"arena_bytes", d.arena_bytes},
                       {"runtime_bytes", d.runtime_bytes},
                       {"peak_ram_bytes", d.peak_ram_bytes()},
                       {"ram_budget_bytes", d.ram_bytes},
                       {"flash_bytes", d.weight_bytes},
                       {"flash_budget_bytes", d.flash_bytes},
                       {"macs", d.estimate.macs},
                       {"bytes_sent", d.estimate.bytes_sent},
                       {"bytes_received", d.estimate.bytes_received},
                       {"compute_s", d.estimate.compute_s},
                       {"layers_computed", layers_computed(p, i)}});
  }
  std::map<std::string, int> strategies;
  for (const plan::LayerPlan& l : p.layers) ++strategies[plan::strategy_name(l.strategy)];
  return {{"model", p.model_name},
          {"plan_hash", fmt::format("{:016x}", hash)},
          {"strategy", p.strategy},
          {"objective", p.objective},
          {"topology", plan::topology_name(p.cluster.topology)},
          {"devices", devices},
          {"layer_strategies", strategies},
          {"max_peak_ram_bytes", p.max_peak_ram_bytes()},
          {"total_bytes_transferred", p.total_bytes_transferred()},
          {"estimated_latency_s", p.estimated_latency_s}};
}

void print_summary(const plan::Plan& p, uint64_t hash) {
  fmt::print("plan of {} on {} devices ({}, {} topology, objective {}), hash {:016x}\n",
             p.model_name, p.device_count(), p.strategy, plan::topology_name(p.cluster.topology),
             p.objective, hash);
  fmt::print("{:<16} {:>12} {:>12} {:>12} {:>14} {:>12} {:>12} {:>8}\n", "device", "peak RAM",
             "RAM budget", "flash", "MACs", "sent", "received", "layers");
  for (size_t i = 0; i < p.participants.size(); ++i) {
    const plan::ParticipantPlan& d = p.participants[i];
    fmt::print("{:<16} {:>12} {:>12} {:>12} {:>14} {:>12} {:>12} {:>8}\n", d.name,
               d.peak_ram_bytes(), d.coordinator ? std::string("-") : std::to_string(d.ram_bytes),
               d.weight_bytes, d.estimate.macs, d.estimate.bytes_sent, d.estimate.bytes_received,
               fmt::format("{}/{}", layers_computed(p, i), p.layers.size()));
  }
  std::map<std::string, int> strategies;
  for (const plan::LayerPlan& l : p.layers) ++strategies[plan::strategy_name(l.strategy)];
  std::string list;
  for (const auto& [name, count] : strategies) {
    list += fmt::format("{}{} {}", list.empty() ? "" : ", ", name, count);
  }
  fmt::print("layers: {} ({})\n", p.layers.size(), list);
  fmt::print("max peak RAM {} bytes, {} bytes transferred, estimated latency {:.2f} ms\n",
             p.max_peak_ram_bytes(), p.total_bytes_transferred(), p.estimated_latency_s * 1e3);
}

void run_plan(const PlanArgs& a) {
  if (!a.dump.empty()) {
    if (!a.model.empty()) throw Error("--dump takes a plan file and no model");
    const plan::PlanFile file = plan::read_plan_file(a.dump);
    fmt::print("{}\n", plan::plan_to_json(file).dump(2));
    return;
  }
  if (a.model.empty()) throw Error("give the model to plan (an .mq or int8 .tflite file)");
  const plan::ClusterSpec cluster = load_cluster(a);
  plan::PlanOptions options;
  options.search_min_count = !a.no_count_search;
  options.scheme = plan::parse_scheme(a.strategy);
  options.objective = plan::parse_objective(a.objective);
  if (a.max_payload < 1 || a.max_payload > device::kMaxPayloadLimit) {
    throw Error(fmt::format("--max-payload is a frame's payload in bytes, 1 to {}, got {}",
                            device::kMaxPayloadLimit, a.max_payload));
  }
  options.max_payload_bytes = a.max_payload;
  const quant::QGraph graph = read_int8_model(a.model);
  const plan::Plan p = plan::make_plan(graph, cluster, options);
  // The independent checker guards every plan before anyone relies on it.
  plan::require_valid_plan(p, graph, "planner");
  const uint64_t hash = plan::plan_hash(p, graph);
  if (!a.output.empty()) plan::write_plan_file(p, graph, a.output);
  if (!a.report.empty()) plan::write_plan_report(p, graph, a.report);
  if (a.json) {
    fmt::print("{}\n", summary_json(p, hash).dump(2));
  } else {
    print_summary(p, hash);
    if (!a.output.empty()) fmt::print("wrote {}\n", a.output);
    if (!a.report.empty()) fmt::print("wrote {}\n", a.report);
  }
}

}  // namespace

void add_plan_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("plan", "Split an int8 model across a cluster of devices");
  auto args = std::make_shared<PlanArgs>();
  cmd->add_option("model", args->model, "Model file (.mq, or an int8 .tflite)");
  cmd->add_option("--devices", args->devices,
                  "Devices as COUNTxPROFILE,... (e.g. 8xteensy41 or 4xteensy41,4xrp2040)");
  cmd->add_option("--cluster", args->cluster, "Cluster description file (JSON)");
  cmd->add_option("--ram", args->ram, "RAM budget of every device (e.g. 256KiB)");
  cmd->add_option("--topology", args->topology, "switched, star or bus");
  cmd->add_option("--strategy", args->strategy, "auto or paper")->capture_default_str();
  cmd->add_option("--objective", args->objective, "latency or memory (auto only)")
      ->capture_default_str();
  cmd->add_option("--max-payload", args->max_payload,
                  "Most payload bytes per frame (the firmware takes at most 1372; 1356 keeps a "
                  "tagged frame in one 1448-byte TCP segment)")
      ->capture_default_str();
  cmd->add_option("-o,--output", args->output, "Plan file to write");
  cmd->add_option("--report", args->report, "HTML report to write");
  cmd->add_flag("--json", args->json, "Print the summary as JSON");
  cmd->add_flag("--no-count-search", args->no_count_search,
                "When the model does not fit, do not search for the device count that would");
  cmd->add_option("--dump", args->dump, "Print a plan file as JSON and exit");
  cmd->callback([args] { run_plan(*args); });
}

}  // namespace mcusplit::cli
