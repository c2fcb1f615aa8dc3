#include "cli/run_report.h"

#include <fmt/core.h>

#include <cmath>

#include <string>
#include <vector>

#include "cli/mq_model.h"
#include "cli/top_k.h"
#include "host/kernel_costs.h"
#include "host/qemu_launcher.h"
#include "plan/cost_model.h"
#include "quant/int8_executor.h"

namespace mcusplit::cli {
namespace {

// Per plan step, what the plan gives a participant's Compute ops (compute_s
// holds their spans; copies are apart): the kernel, the work units the cost
// model charges (plan::op_work; what a calibration turns into kernel rates)
// and the device's cycles for them (0 for the coordinator or without a clock).
struct PlannedSteps {
  std::vector<std::string> kernel;
  std::vector<int64_t> work;
  std::vector<double> cycles;
};

PlannedSteps planned_steps(const plan::PlanFile& file, int participant) {
  const plan::ParticipantPlan& pp = file.plan.participants[static_cast<size_t>(participant)];
  const auto steps = static_cast<size_t>(file.plan.step_count());
  PlannedSteps planned{std::vector<std::string>(steps), std::vector<int64_t>(steps, 0),
                       std::vector<double>(steps, 0)};
  const plan::DeviceSpec* device =
      pp.coordinator ? nullptr : &file.plan.cluster.devices[static_cast<size_t>(participant)];
  for (const plan::PlanOp& op : pp.ops) {
    const auto step = static_cast<size_t>(op.step);
    if (op.kind != plan::OpKind::Compute || step >= steps) continue;
    const plan::OpWork w = plan::op_work(file.graph, pp, op);
    planned.kernel[step] = w.kernel;
    planned.work[step] += w.counts.work;
    if (device != nullptr) planned.cycles[step] += plan::work_cycles(*device, w);
  }
  return planned;
}

// Per plan step the participant computed or waited in: its layer (or the
// output collection), the seconds, and the plan's kernel and work units;
// with -icount also its MACs, the instructions it took and the plan's
// prediction of them (the device's cycles, one instruction each).
nlohmann::json layers_json(const plan::PlanFile& file, int participant,
                           const host::ParticipantReport& p, const PlannedSteps& planned,
                           bool icount) {
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
                         {"wait_s", t.wait_s[step]},
                         {"kernel", step < planned.kernel.size() ? planned.kernel[step] : ""},
                         {"work", step < planned.work.size() ? planned.work[step] : 0}};
    if (const host::LayerKernelCost* c = cost_of[step]) {
      layer["macs"] = c->macs;
      layer["instructions"] = c->instructions;
      layer["predicted_instructions"] =
          std::llround(step < planned.cycles.size() ? planned.cycles[step] : 0.0);
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
    const PlannedSteps planned = planned_steps(file, participant);
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
                       {"retransmissions", p.retransmissions},
                       {"ack_round_trip_s", p.ack_round_trip_s},
                       {"ack_round_trip_p10_s", p.ack_round_trip_p10_s},
                       {"own_ack_round_trip_p10_s", p.own_ack_round_trip_p10_s},
                       {"own_ack_round_trip_s", p.own_ack_round_trip_s},
                       {"duplicates_dropped", p.duplicates_dropped},
                       {"link_frames_dropped", p.link_frames_dropped},
                       {"compute_s", p.compute_s},
                       {"wait_s", p.wait_s},
                       {"total_s", p.total_s},
                       {"layers", layers_json(file, participant, p, planned, icount)}});
    if (icount) {
      devices.back()["instructions"] = compute_instructions(file, p);
      // What the plan predicts of them: the device's cycles, one instruction each.
      double cycles = 0;
      for (double c : planned.cycles) cycles += c;
      devices.back()["predicted_instructions"] = std::llround(cycles);
    }
    if (!p.coordinator) devices.back()["board"] = file.plan.cluster.devices[i].board;
  }
  return devices;
}

// What carried the frames: TCP to workers, or the emulated devices' link.
const char* link_word(const host::RunRequest& r) {
  if (r.targets == host::RunTargets::Workers) return "tcp";
  return host::name(r.link.value_or(host::RunLink::Uart));
}

nlohmann::json percentiles_json(const host::LatencyPercentiles& p) {
  return {{"count", p.count}, {"p50_s", p.p50_s}, {"p99_s", p.p99_s}};
}

// Of all inferences and of the first and the last tenth: a soak compares the
// tenths to see whether latency drifts.
nlohmann::json latency_percentiles_json(const host::LatencySummary& s) {
  return {{"all", percentiles_json(s.all)},
          {"first_tenth", percentiles_json(s.first_tenth)},
          {"last_tenth", percentiles_json(s.last_tenth)}};
}

ClassScore top1(const host::RunSession& session, const host::RunOutcome& outcome) {
  const std::vector<float> scores =
      quant::dequantize_output(session.plan().graph, outcome.run.output);
  return top_k(scores.data(), static_cast<int64_t>(scores.size()), 1)[0];
}

}  // namespace

nlohmann::json run_json(const host::RunSession& session, const host::RunOutcome& outcome) {
  const plan::PlanFile& file = session.plan();
  const host::DistributedRun& r = outcome.run;
  const bool icount = session.request().icount;
  const quant::QTensor& out_t = file.graph.tensors[static_cast<size_t>(file.graph.output)];
  const ClassScore top = top1(session, outcome);
  return nlohmann::json{{"model", file.plan.model_name},
                        {"plan_hash", fmt::format("{:016x}", file.hash)},
                        {"output", {{"name", out_t.name}, {"shape", onnx_dims(out_t.shape)}}},
                        {"top1", {{"index", top.index}, {"score", top.score}}},
                        {"latency_s", r.latency_s},
                        {"mean_latency_s", outcome.latency.mean_s},
                        {"median_latency_s", outcome.latency.median_s},
                        {"throughput_per_s", outcome.latency.throughput_per_s},
                        {"latency_percentiles", latency_percentiles_json(outcome.latency)},
                        {"topology", outcome.star ? "star" : "switched"},
                        {"targets", host::name(session.request().targets)},
                        {"link", link_word(session.request())},
                        {"plan_devices", file.plan.device_count()},
                        {"replanned_without", r.replanned_without},
                        {"estimated_latency_s", file.plan.estimated_latency_s},
                        {"icount_shift", icount ? host::kIcountShift : -1},
                        {"devices", devices_json(file, r, icount)}};
}

void print_run_table(const host::RunSession& session, const host::RunOutcome& outcome) {
  const plan::PlanFile& file = session.plan();
  const host::DistributedRun& r = outcome.run;
  const bool qemu = session.request().targets == host::RunTargets::Qemu;
  const bool ethernet = session.request().link == host::RunLink::Ethernet;
  fmt::print(
      "ran {} on {} {} ({}), {} inference(s): median latency {:.2f} ms, {:.2f} inferences/s "
      "(plan estimate {:.2f} ms)\n",
      file.plan.model_name, file.plan.device_count(),
      !qemu      ? "workers"
      : ethernet ? "emulated Cortex-M7 devices (QEMU) on Ethernet"
                 : "emulated Cortex-M7 devices (QEMU) over UART",
      outcome.star ? "star" : "switched", r.latency_s.size(), outcome.latency.median_s * 1e3,
      outcome.latency.throughput_per_s, file.plan.estimated_latency_s * 1e3);
  if (r.latency_s.size() >= 10) {
    const host::LatencySummary& l = outcome.latency;
    fmt::print(
        "latency p50 / p99: all {:.2f} / {:.2f} ms, first tenth {:.2f} / {:.2f} ms, last tenth "
        "{:.2f} / {:.2f} ms\n",
        l.all.p50_s * 1e3, l.all.p99_s * 1e3, l.first_tenth.p50_s * 1e3, l.first_tenth.p99_s * 1e3,
        l.last_tenth.p50_s * 1e3, l.last_tenth.p99_s * 1e3);
  }
  const ClassScore top = top1(session, outcome);
  fmt::print("top-1: class {} (score {:.4f})\n", top.index, top.score);
  fmt::print("{:<16} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10} {:>10}\n", "device", "arena",
             "high water", "sent", "received", "frames>", "frames<", "compute ms", "wait ms");
  for (const host::ParticipantReport& p : r.participants) {
    fmt::print("{:<16} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10.2f} {:>10.2f}\n", p.name,
               p.arena_bytes, p.high_water_bytes, p.bytes_sent, p.bytes_received, p.frames_sent,
               p.frames_received, p.compute_s * 1e3, p.wait_s * 1e3);
  }
  if (session.request().icount) {
    // Virtual time under -icount: the seconds above are instructions * 128 ns.
    fmt::print("instructions in compute (QEMU -icount shift={}):", host::kIcountShift);
    for (size_t i = 0; i + 1 < r.participants.size(); ++i) {
      fmt::print(" {} {}", r.participants[i].name, compute_instructions(file, r.participants[i]));
    }
    fmt::print("\n");
  }
  if (outcome.star) {
    fmt::print("coordinator relayed {} frames ({} bytes)\n", r.participants.back().frames_relayed,
               r.participants.back().bytes_relayed);
  }
}

}  // namespace mcusplit::cli
