// `mcusplit run PLAN --input FILE [--output FILE.pb] [--workers ADDR,...]
//  [--targets workers|qemu [--firmware ELF] [--icount] [--provision loader|link]]
//  [--repeat N] [--json]`: runs a
// plan file on worker processes over TCP, started on loopback here unless
// --workers names running ones, or (--targets qemu) on emulated Cortex-M7
// microcontrollers, one QEMU per device booted with its device image.
#include <fmt/core.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/input_loading.h"
#include "cli/mq_model.h"
#include "cli/top_k.h"
#include "host/chrome_trace.h"
#include "host/coordinator.h"
#include "host/device_image_writer.h"
#include "host/kernel_costs.h"
#include "host/local_launcher.h"
#include "host/qemu_launcher.h"
#include "model/error.h"
#include "model/file_io.h"
#include "model/tensor_io.h"
#include "plan/plan_checker.h"
#include "plan/plan_file.h"
#include "plan/planner.h"
#include "quant/mq_format.h"

namespace mcusplit::cli {
namespace {

struct RunArgs {
  std::string plan;
  std::string input;
  std::string output;
  std::string workers;
  std::string topology;
  std::string trace;
  std::string on_failure = "stop";
  std::string model;
  std::string targets = "workers";
  std::string firmware = MCUSPLIT_FIRMWARE_ELF;
  int repeat = 1;
  int timeout_ms = 2000;
  bool timeout_given = false;    // --timeout on the command line
  bool provision_given = false;  // --provision on the command line
  bool json = false;
  bool icount = false;               // --targets qemu: instruction counts per layer (-icount)
  std::string provision = "loader";  // --targets qemu: how images reach the devices
  ImageOptions image;
};

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open plan file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<host::SocketAddress> parse_workers(const std::string& list) {
  std::vector<host::SocketAddress> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    out.push_back(host::parse_address(item, "--workers entry", false));
    for (size_t i = 0; i + 1 < out.size(); ++i) {
      if (out[i].text() == out.back().text()) {
        throw Error("--workers lists " + item + " twice: one worker serves one device");
      }
    }
  }
  return out;
}

// --targets qemu without --timeout.
constexpr std::chrono::milliseconds kQemuDefaultTimeout{30000};
// --provision link: the rate the greeting's deadline allows for an image to
// cross an emulated UART (QEMU 7.2's carries 8 to 10 KB/s).
constexpr int64_t kLinkProvisionBytesPerMs = 4;

// A private temporary directory (the device images QEMU loads), removed
// with everything in it when it goes.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/mcusplit-qemu-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw Error("cannot create a directory for the device images in '" + pattern + "'",
                  kExitFailure);
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes every device's image of `file` into `dir`; returns their paths.
std::vector<std::string> write_device_images(const plan::PlanFile& file, const std::string& dir,
                                             int generation) {
  std::vector<std::string> paths;
  for (int i = 0; i < file.plan.device_count(); ++i) {
    const std::vector<uint8_t> image = host::write_participant_image(file, i);
    paths.push_back(dir + "/plan" + std::to_string(generation) + "-device" + std::to_string(i) +
                    ".img");
    model::write_file_atomically(paths.back(), std::string(image.begin(), image.end()),
                                 "device image ");
  }
  return paths;
}

// The last non-empty line of `text`.
std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// Per plan step the participant computed or waited in: its layer (or the
// output collection) and the seconds; with -icount also the kernel, its MACs
// and the instructions it took.
nlohmann::json layers_json(const plan::PlanFile& file, int participant,
                           const host::ParticipantReport& p, bool icount) {
  const host::StepTimes& t = p.steps;
  std::vector<const host::LayerKernelCost*> cost_of(t.compute_s.size(), nullptr);
  std::vector<host::LayerKernelCost> costs;
  if (icount && !p.coordinator) {
    costs = host::layer_kernel_costs(file, participant, p, host::kIcountShift);
    for (const host::LayerKernelCost& c : costs) cost_of[static_cast<size_t>(c.step)] = &c;
  }
  nlohmann::json layers = nlohmann::json::array();
  for (size_t step = 0; step < t.compute_s.size(); ++step) {
    if (t.compute_s[step] == 0 && t.wait_s[step] == 0 && cost_of[step] == nullptr) continue;
    const std::string name =
        step < file.graph.layers.size() ? file.graph.layers[step].name : "output";
    nlohmann::json layer{{"step", step},
                         {"layer", name},
                         {"compute_s", t.compute_s[step]},
                         {"wait_s", t.wait_s[step]}};
    if (const host::LayerKernelCost* c = cost_of[step]) {
      layer["kernel"] = c->kernel;
      layer["macs"] = c->macs;
      layer["instructions"] = c->instructions;
    }
    layers.push_back(std::move(layer));
  }
  return layers;
}

// A device's instructions in Compute ops (-icount), 0 for the coordinator.
int64_t compute_instructions(const plan::PlanFile& file, const host::ParticipantReport& p) {
  if (p.coordinator) return 0;
  const std::vector<int64_t> steps = host::step_instructions(
      p.compute_clocks, p.clock_hz, host::kIcountShift, file.plan.step_count());
  int64_t total = 0;
  for (int64_t n : steps) total += n;
  return total;
}

nlohmann::json devices_json(const plan::PlanFile& file, const host::DistributedRun& r,
                            bool icount) {
  nlohmann::json devices = nlohmann::json::array();
  for (size_t i = 0; i < r.participants.size(); ++i) {
    const host::ParticipantReport& p = r.participants[i];
    const int participant = static_cast<int>(i);
    devices.push_back({{"name", p.name},
                       {"address", p.address},
                       {"coordinator", p.coordinator},
                       {"arena_bytes", p.arena_bytes},
                       {"high_water_bytes", p.high_water_bytes},
                       {"bytes_sent", p.bytes_sent},
                       {"planned_bytes_sent", p.planned_bytes_sent},
                       {"bytes_received", p.bytes_received},
                       {"planned_bytes_received", p.planned_bytes_received},
                       {"frames_sent", p.frames_sent},
                       {"frames_received", p.frames_received},
                       {"data_frames_sent", p.data_frames_sent},
                       {"planned_data_frames_sent", p.planned_data_frames_sent},
                       {"credit_frames_sent", p.credit_frames_sent},
                       {"planned_credit_frames_sent", p.planned_credit_frames_sent},
                       {"frames_relayed", p.frames_relayed},
                       {"bytes_relayed", p.bytes_relayed},
                       {"stats_frames_sent", p.stats_frames_sent},
                       {"serial_bytes_dropped", p.serial_bytes_dropped},
                       {"compute_s", p.compute_s},
                       {"wait_s", p.wait_s},
                       {"total_s", p.total_s},
                       {"layers", layers_json(file, participant, p, icount)}});
    if (icount) devices.back()["instructions"] = compute_instructions(file, p);
  }
  return devices;
}

// The plan `file` re-made for its cluster without device `lost`, with the
// same strategy, objective and frame size. Throws mcusplit::Error with exit
// code 3 if the model does not fit the devices left.
plan::Plan replan_without(const plan::PlanFile& file, const quant::QGraph& graph, int lost) {
  plan::ClusterSpec cluster = file.plan.cluster;
  cluster.devices.erase(cluster.devices.begin() + lost);
  if (cluster.devices.empty()) {
    throw Error("no device is left to re-plan onto", kExitFailure);
  }
  plan::PlanOptions options;
  options.scheme = plan::parse_scheme(file.plan.strategy);
  options.objective = plan::parse_objective(file.plan.objective);
  options.coordinator = file.plan.coordinator_spec;
  options.max_payload_bytes = file.plan.max_payload_bytes;
  options.search_min_count = false;
  plan::Plan p = plan::make_plan(graph, cluster, options);
  plan::require_valid_plan(p, graph, "planner");
  return p;
}

void run_run(const RunArgs& a) {
  if (a.repeat < 1) throw Error("--repeat must be at least 1");
  if (a.timeout_ms <= 0) throw Error("--timeout must be positive");
  if (a.on_failure == "replan" && a.model.empty()) {
    throw Error("--on-failure replan needs --model MODEL.mq: the plan holds only weight slices");
  }
  std::string bytes = read_bytes(a.plan);
  plan::PlanFile file = plan::parse_plan(bytes, a.plan);
  quant::QGraph full_graph;
  if (!a.model.empty()) {
    const std::string mq = model::read_file_bytes(a.model);
    if (plan::fnv1a64(mq.data(), mq.size()) != file.plan.model_hash) {
      throw Error("'" + a.model + "' is not the model '" + a.plan + "' was planned for");
    }
    full_graph = quant::parse_mq(mq, a.model);
  }
  const bool qemu = a.targets == "qemu";
  if (qemu && !a.workers.empty()) {
    throw Error("--targets qemu boots its own emulated devices: --workers does not apply");
  }
  if (a.provision_given && !qemu) {
    throw Error("--provision says how emulated devices get their images: it needs --targets qemu");
  }
  if (a.icount && !qemu) {
    throw Error("--icount counts instructions of emulated devices: it needs --targets qemu");
  }
  if (qemu && a.topology == "switched") {
    throw Error(
        "--targets qemu runs the star topology only: an emulated device has one serial "
        "link, to the coordinator");
  }
  const std::vector<int8_t> input = load_int8_input(file.graph, a.input, a.image.preprocessing());
  std::vector<host::SocketAddress> workers = parse_workers(a.workers);
  if (!a.workers.empty() && static_cast<int>(workers.size()) != file.plan.device_count()) {
    throw Error("the plan has " + std::to_string(file.plan.device_count()) +
                " devices but --workers lists " + std::to_string(workers.size()) + " addresses");
  }
  std::optional<host::LocalWorkers> local;
  const auto start_local = [&] {
    local.reset();
    local.emplace(file.plan.device_count(), std::chrono::seconds(10),
                  std::vector<std::string>{"--timeout", std::to_string(a.timeout_ms)});
    workers = local->addresses();
  };
  // --targets qemu: one QEMU per device, its image loaded before reset.
  std::optional<TempDir> images_dir;
  std::optional<host::QemuDevices> emulated;
  int generation = 0;
  const auto start_qemu = [&] {
    emulated.reset();
    if (!images_dir) images_dir.emplace();
    host::QemuOptions q;
    q.firmware = a.firmware;
    q.icount = a.icount;
    // Over the link: no image loaded, the coordinator sends each its slice.
    emulated.emplace(a.provision == "link"
                         ? std::vector<std::string>(static_cast<size_t>(file.plan.device_count()))
                         : write_device_images(file, images_dir->path(), generation++),
                     q);
    workers = emulated->addresses();
  };
  if (qemu) {
    start_qemu();
  } else if (a.workers.empty()) {
    start_local();
  }
  host::CoordinatorOptions options;
  options.repeat = a.repeat;
  // The plan's own topology unless told; a bus is run switched (both are one
  // hop between devices).
  options.star = a.topology.empty() ? file.plan.cluster.topology == plan::Topology::Star
                                    : a.topology == "star";
  options.receive_timeout = std::chrono::milliseconds(a.timeout_ms);
  if (qemu && !a.timeout_given) {
    // Emulated devices behind 10 KB/s UARTs: the coordinator may wait
    // seconds for its next frame while the devices exchange theirs.
    options.receive_timeout = kQemuDefaultTimeout;
  }
  if (qemu) {
    // The devices hold their images (loaded by QEMU) or get them over the
    // link, and talk over their UART: every frame through the coordinator,
    // the firmware's banner skipped.
    options.star = true;
    options.preprovisioned = a.provision == "loader";
    options.serial_links = true;
    options.setup_timeout = std::max(options.setup_timeout, options.receive_timeout);
    if (a.provision == "link") {
      // The greeting waits for the largest image to cross its UART.
      int64_t largest = 0;
      for (const plan::ParticipantPlan& pp : file.plan.participants) {
        largest = std::max(largest, pp.weight_bytes);
      }
      options.setup_timeout += std::chrono::milliseconds(largest / kLinkProvisionBytesPerMs);
    }
  }
  // After a failure, emulated devices that were told to stop get a moment to
  // exit by themselves (a device that refused the plan exits with code 1)
  // before the rest are killed. Returns what the ones that failed said last
  // (a fault report, say), unless `message` says it already.
  const auto settle_qemu = [&](const std::string& message) {
    std::string said;
    if (!emulated) return said;
    const std::vector<int> status = emulated->wait_all(std::chrono::seconds(3));
    for (size_t i = 0; i < status.size(); ++i) {
      if (status[i] <= 0) continue;
      const std::string line = last_line(emulated->output(i));
      if (!line.empty() && message.find(line) != std::string::npos) continue;
      said += "; device '" + file.plan.participants[i].name + "' (QEMU) exited with status " +
              std::to_string(status[i]) + (line.empty() ? "" : ": " + line);
    }
    return said;
  };
  host::DistributedRun r;
  try {
    r = host::run_distributed(file, workers, input, options);
  } catch (const host::DeviceLostError& e) {
    const std::string said = settle_qemu(e.what());
    if (a.on_failure != "replan") throw host::DeviceLostError(e.what() + said, e.device());
    // Re-plan onto the devices left and run again from the first inference.
    const int lost = e.device();
    const std::string lost_name = file.plan.participants[static_cast<size_t>(lost)].name;
    fmt::print(stderr, "mcusplit: {}\nmcusplit: re-planning onto the {} devices left\n", e.what(),
               file.plan.device_count() - 1);
    const plan::Plan again = replan_without(file, full_graph, lost);
    bytes = plan::serialize_plan(again, full_graph);
    file = plan::parse_plan(bytes, "the re-made plan");
    if (emulated) {
      start_qemu();
    } else if (local) {
      local->kill_all();
      start_local();
    } else {
      // The survivors, which must serve another session (worker --sessions).
      workers.erase(workers.begin() + lost);
    }
    try {
      r = host::run_distributed(file, workers, input, options);
    } catch (const Error& again_failed) {
      throw Error(again_failed.what() + settle_qemu(again_failed.what()), again_failed.exit_code());
    }
    r.replanned_without = lost_name;
  } catch (const Error& e) {
    throw Error(e.what() + settle_qemu(e.what()), e.exit_code());
  }
  if (local && !local->wait_all(std::chrono::seconds(2))) {
    throw Error("a worker did not shut down cleanly after the run", kExitFailure);
  }
  if (emulated) {
    // Every firmware exits through semihosting with 0 after the Stop.
    const std::vector<int> status = emulated->wait_all(
        std::max<std::chrono::milliseconds>(options.receive_timeout, std::chrono::seconds(5)));
    // What each firmware printed (banner, its last words: uptime, stack
    // depth), kept on request.
    const char* keep = std::getenv("MCUSPLIT_QEMU_OUTPUT");
    if (keep != nullptr && *keep != '\0') {
      for (size_t i = 0; i < status.size(); ++i) {
        model::write_file_atomically(
            std::string(keep) + "/" + file.plan.participants[i].name + ".log", emulated->output(i),
            "QEMU output ");
      }
    }
    for (size_t i = 0; i < status.size(); ++i) {
      if (status[i] == 0) continue;
      const std::string said = last_line(emulated->output(i));
      throw Error("device '" + file.plan.participants[i].name + "' (QEMU) " +
                      (status[i] < 0 ? std::string("did not shut down after the run")
                                     : "exited with status " + std::to_string(status[i])) +
                      (said.empty() ? "" : ": " + said),
                  kExitFailure);
    }
  }

  const quant::QGraph& g = file.graph;
  const quant::QTensor& out_t = g.tensors[static_cast<size_t>(g.output)];
  const model::Dims dims = onnx_dims(out_t.shape);
  if (!a.trace.empty()) {
    model::write_file_atomically(a.trace, host::chrome_trace_json(file, r.traces), "trace ");
  }
  if (!a.output.empty()) {
    model::write_int8_tensor_file(a.output, out_t.name, dims,
                                  quant::nhwc_to_nchw(out_t.shape, r.output));
  }
  const std::vector<float> scores = quant::dequantize_output(g, r.output);
  const auto top = top_k(scores.data(), static_cast<int64_t>(scores.size()), 1);
  double mean_s = 0;
  double busy_s = 0;
  for (double s : r.latency_s) {
    mean_s += s / static_cast<double>(r.latency_s.size());
    busy_s += s;
  }
  std::vector<double> sorted = r.latency_s;
  std::sort(sorted.begin(), sorted.end());
  const double median_s = sorted.size() % 2 == 1
                              ? sorted[sorted.size() / 2]
                              : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  // Inferences run back to back, one at a time.
  const double throughput = static_cast<double>(r.latency_s.size()) / busy_s;
  if (a.json) {
    nlohmann::json j{{"model", file.plan.model_name},
                     {"plan_hash", fmt::format("{:016x}", file.hash)},
                     {"output", {{"name", out_t.name}, {"shape", dims}}},
                     {"top1", {{"index", top[0].index}, {"score", top[0].score}}},
                     {"latency_s", r.latency_s},
                     {"mean_latency_s", mean_s},
                     {"median_latency_s", median_s},
                     {"throughput_per_s", throughput},
                     {"topology", options.star ? "star" : "switched"},
                     {"targets", qemu ? "qemu" : "workers"},
                     {"plan_devices", file.plan.device_count()},
                     {"replanned_without", r.replanned_without},
                     {"estimated_latency_s", file.plan.estimated_latency_s},
                     {"icount_shift", a.icount ? host::kIcountShift : -1},
                     {"devices", devices_json(file, r, a.icount)}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print(
      "ran {} on {} {} ({}), {} inference(s): median latency {:.2f} ms, {:.2f} inferences/s "
      "(plan estimate {:.2f} ms)\n",
      file.plan.model_name, file.plan.device_count(),
      qemu ? "emulated Cortex-M7 devices (QEMU) over UART" : "workers",
      options.star ? "star" : "switched", r.latency_s.size(), median_s * 1e3, throughput,
      file.plan.estimated_latency_s * 1e3);
  fmt::print("top-1: class {} (score {:.4f})\n", top[0].index, top[0].score);
  fmt::print("{:<16} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10} {:>10}\n", "device", "arena",
             "high water", "sent", "received", "frames>", "frames<", "compute ms", "wait ms");
  for (const host::ParticipantReport& p : r.participants) {
    fmt::print("{:<16} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10.2f} {:>10.2f}\n", p.name,
               p.arena_bytes, p.high_water_bytes, p.bytes_sent, p.bytes_received, p.frames_sent,
               p.frames_received, p.compute_s * 1e3, p.wait_s * 1e3);
  }
  if (a.icount) {
    // Virtual time under -icount: the seconds above are instructions * 128 ns.
    fmt::print("instructions in compute (QEMU -icount shift={}):", host::kIcountShift);
    for (size_t i = 0; i + 1 < r.participants.size(); ++i) {
      fmt::print(" {} {}", r.participants[i].name, compute_instructions(file, r.participants[i]));
    }
    fmt::print("\n");
  }
  if (options.star) {
    fmt::print("coordinator relayed {} frames ({} bytes)\n", r.participants.back().frames_relayed,
               r.participants.back().bytes_relayed);
  }
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
                  "workers: mcusplit worker processes; qemu: one emulated Cortex-M7 per device "
                  "(qemu-system-arm, the device firmware, star topology over UART)")
      ->check(CLI::IsMember({"workers", "qemu"}))
      ->capture_default_str();
  cmd->add_option("--firmware", args->firmware,
                  "--targets qemu: the device firmware ELF (default: the one built with mcusplit)")
      ->capture_default_str();
  CLI::Option* provision =
      cmd->add_option("--provision", args->provision,
                      "--targets qemu: loader: QEMU loads each device image into flash before "
                      "reset; link: the coordinator sends it over the device's UART at boot")
          ->check(CLI::IsMember({"loader", "link"}))
          ->capture_default_str();
  cmd->add_option("--topology", args->topology,
                  "switched: workers send to each other; star: every frame through the "
                  "coordinator (default: the plan's topology)")
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
                  "The .mq model the plan was made from (for --on-failure replan)");
  cmd->add_flag("--json", args->json, "Print the output's top-1, latencies and per-device figures");
  cmd->add_flag("--icount", args->icount,
                "--targets qemu: run QEMU with -icount shift=7 and report each device's "
                "instructions per layer (deterministic; times become virtual time)");
  add_image_options(cmd, &args->image);
  cmd->callback([args, timeout, provision] {
    args->timeout_given = timeout->count() > 0;
    args->provision_given = provision->count() > 0;
    run_run(*args);
  });
}

}  // namespace mcusplit::cli
