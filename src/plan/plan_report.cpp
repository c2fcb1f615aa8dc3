#include "plan/plan_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "common/error.h"
#include "model/file_io.h"
#include "plan/report_format.h"
#include "plan/svg_memory.h"
#include "plan/svg_timeline.h"

namespace mcusplit::plan {
namespace {

using report::format_bytes;
using report::format_count;
using report::format_ms;
using report::html_escape;

// A few rules on purpose: the page must stay readable as source and work offline.
constexpr const char* kStyle =
    "body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1140px;margin:1em auto;"
    "padding:0 1em}\n"
    "table{border-collapse:collapse;margin:.4em 0 1.4em}\n"
    "th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}\n"
    ".n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.warn{color:#c0392b;font-weight:bold}\n"
    "svg{max-width:100%;height:auto;font-size:12px;display:block;margin-bottom:1.4em}\n"
    "svg text{fill:#333}svg .note{fill:#777}svg text.on-dark{fill:#fff}\n"
    ".grid{stroke:#eee}.axis{stroke:#888}.band{fill:#f6f6f6}.budget{stroke:#222;stroke-width:2}\n"
    ".limit{stroke:#c0392b;stroke-dasharray:6 4}.empty{fill:#f5f5f5}.other{fill:#999}\n"
    ".bar,.compute,.heat{fill:#4e79a7}.bar.warn{fill:#f28e2b}.bar.over{fill:#e15759}\n"
    ".send{fill:#f28e2b}.receive{fill:#59a14f}\n";

std::string cell(const std::string& text) {
  return "<td>" + html_escape(text) + "</td>";
}

// A number cell: human-readable, the exact figure as a tooltip.
std::string num_cell(const std::string& text, const std::string& exact = "",
                     const std::string& extra_class = "") {
  std::string out = "<td class=\"n" + extra_class + "\"";
  if (!exact.empty()) out += " title=\"" + html_escape(exact) + "\"";
  return out + ">" + html_escape(text) + "</td>";
}

std::string bytes_cell(int64_t bytes, const std::string& extra_class = "") {
  return num_cell(format_bytes(bytes), fmt::format("{} bytes", bytes), extra_class);
}

std::string budget_cell(int64_t bytes) {
  return bytes > 0 ? bytes_cell(bytes) : num_cell("unbounded");
}

// Rates as whole numbers for format_count; a corrupt (non-finite) rate reads 0.
int64_t whole(double v) {
  return std::isfinite(v) && std::fabs(v) < 9e18 ? std::llround(v) : 0;
}

std::string summary(const Plan& plan, const quant::QGraph& graph, const std::string& model) {
  int devices = 0;
  for (const ParticipantPlan& p : plan.participants) devices += p.coordinator ? 0 : 1;
  if (devices == 0) devices = plan.device_count();
  const CoordinatorSpec& c = plan.coordinator_spec;
  const std::string coordinator = fmt::format(
      "link {}, {} per message; {}", format_count(whole(c.link_bits_per_second), "bit/s"),
      format_ms(c.link_latency_s), format_count(whole(c.macs_per_second), "MAC/s"));
  const std::pair<const char*, std::string> rows[] = {
      {"model", model},
      {"model hash", fmt::format("{:016x}", plan.model_hash)},
      {"layers", std::to_string(graph.layers.size())},
      {"strategy", plan.strategy.empty() ? "n/a" : plan.strategy},
      {"objective", plan.objective.empty() ? "n/a" : plan.objective},
      {"topology", topology_name(plan.cluster.topology)},
      {"devices", std::to_string(devices)},
      {"estimated latency", format_ms(plan.estimated_latency_s)},
      {"max peak RAM (devices)", format_bytes(plan.max_peak_ram_bytes())},
      {"total bytes transferred",
       fmt::format("{} ({} bytes)", format_bytes(plan.total_bytes_transferred()),
                   plan.total_bytes_transferred())},
      {"coordinator", coordinator},
      {"max payload per frame", fmt::format("{} bytes", plan.max_payload_bytes)},
  };
  std::string out = "<table class=\"kv\">\n";
  for (const auto& [key, value] : rows) {
    out += fmt::format("<tr><th>{}</th>{}</tr>\n", key, cell(value));
  }
  return out + "</table>\n";
}

std::string participants_table(const Plan& plan) {
  std::string out =
      "<table>\n<tr><th>participant</th><th>profile</th><th class=\"n\">RAM budget</th>"
      "<th class=\"n\">peak RAM</th><th class=\"n\">flash budget</th><th class=\"n\">flash "
      "used</th><th class=\"n\">MACs</th><th class=\"n\">sent</th><th class=\"n\">received</th>"
      "<th class=\"n\">compute</th><th class=\"n\">finish</th></tr>\n";
  ParticipantEstimate total;
  for (size_t i = 0; i < plan.participants.size(); ++i) {
    const ParticipantPlan& p = plan.participants[i];
    const ParticipantEstimate& e = p.estimate;
    std::string profile = p.coordinator ? "coordinator" : "custom";
    if (!p.coordinator && i < plan.cluster.devices.size() &&
        !plan.cluster.devices[i].profile.empty()) {
      profile = plan.cluster.devices[i].profile;
    }
    out +=
        "<tr>" + cell(report::participant_name(plan, static_cast<int>(i))) + cell(profile) +
        budget_cell(p.ram_bytes) +
        bytes_cell(p.peak_ram_bytes(), report::ram_warn_classes(p.peak_ram_bytes(), p.ram_bytes)) +
        budget_cell(p.flash_bytes) +
        bytes_cell(p.weight_bytes, report::ram_warn_classes(p.weight_bytes, p.flash_bytes)) +
        num_cell(format_count(e.macs), std::to_string(e.macs)) + bytes_cell(e.bytes_sent) +
        bytes_cell(e.bytes_received) + num_cell(format_ms(e.compute_s)) +
        num_cell(format_ms(e.finish_s)) + "</tr>\n";
    total.macs += e.macs;
    total.bytes_sent += e.bytes_sent;
    total.bytes_received += e.bytes_received;
  }
  out += "<tr><th>total</th><td></td><td></td><td></td><td></td><td></td>" +
         num_cell(format_count(total.macs), std::to_string(total.macs)) +
         bytes_cell(total.bytes_sent) + bytes_cell(total.bytes_received) + "<td></td>" +
         num_cell(format_ms(plan.estimated_latency_s)) + "</tr>\n";
  return out + "</table>\n";
}

std::string layers_table(const Plan& plan, const quant::QGraph& graph) {
  std::string out =
      "<table>\n<tr><th class=\"n\">step</th><th>layer</th><th>op</th><th>strategy</th>"
      "<th>computed by</th><th class=\"n\">output (CxHxW)</th><th class=\"n\">MACs</th></tr>\n";
  const size_t rows = std::max(graph.layers.size(), plan.layers.size());
  for (size_t i = 0; i < rows; ++i) {
    std::string name = fmt::format("layer {}", i), op = "?", shape = "?";
    std::string macs = num_cell("?");
    if (i < graph.layers.size()) {
      const quant::QLayer& l = graph.layers[i];
      name = l.name;
      op = quant::op_type_name(l.op);
      if (l.output >= 0 && l.output < static_cast<int>(graph.tensors.size())) {
        const int64_t n = quant::layer_macs(graph, l);
        macs = num_cell(format_count(n), std::to_string(n));
        const core::TensorShape3& s = graph.tensors[static_cast<size_t>(l.output)].shape;
        shape = fmt::format("{}x{}x{}", s.c, s.h, s.w);
      }
    }
    std::string strategy = "n/a", by = "n/a";
    if (i < plan.layers.size()) {
      const LayerPlan& lp = plan.layers[i];
      strategy = strategy_name(lp.strategy);
      // Names while they fit in a cell, a count beyond.
      std::vector<std::string> who;
      for (size_t p = 0; p < lp.boxes.size(); ++p) {
        if (!lp.boxes[p].empty())
          who.push_back(report::participant_name(plan, static_cast<int>(p)));
      }
      by = who.empty() ? "nobody" : "";
      for (size_t k = 0; k < who.size() && who.size() <= 3; ++k) by += (k ? ", " : "") + who[k];
      if (who.size() > 3) by = fmt::format("{} participants", who.size());
    }
    out += "<tr>" + num_cell(std::to_string(i)) + cell(name) + cell(op) + cell(strategy) +
           cell(by) + num_cell(shape) + macs + "</tr>\n";
  }
  return out + "</table>\n";
}

}  // namespace

std::string render_plan_report(const Plan& plan, const quant::QGraph& graph) {
  const std::string model = !plan.model_name.empty()      ? plan.model_name
                            : !graph.source_model.empty() ? graph.source_model
                                                          : "unnamed model";
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>mcusplit plan: " + html_escape(model) + "</title>\n";
  out += std::string("<style>\n") + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>Plan for " + html_escape(model) + "</h1>\n";
  out += summary(plan, graph, model);
  out += "<h2>Participants</h2>\n" + participants_table(plan);
  out +=
      "<h2>Peak RAM against budget</h2>\n<p>Bars: peak arena; black mark: RAM budget; "
      "orange above 90% of the budget, red above it.</p>\n" +
      report::svg_ram_bars(plan);
  out +=
      "<h2>Memory profile</h2>\n<p>Bytes of buffers and kernel scratch live at each step, per "
      "device.</p>\n" +
      report::svg_memory_profile(plan, graph);
  out += "<h2>Layers</h2>\n" + layers_table(plan, graph);
  out +=
      "<h2>Estimated timeline</h2>\n<p>Hover an interval for its step and peer; the dashed "
      "line is the estimated latency.</p>\n" +
      report::svg_timeline(plan, graph);
  out +=
      "<h2>Traffic</h2>\n<p>Payload bytes of Send ops, sender by row, receiver by "
      "column.</p>\n" +
      report::svg_traffic_matrix(plan);
  return out + "</body>\n</html>\n";
}

void write_plan_report(const Plan& plan, const quant::QGraph& graph, const std::string& path) {
  const std::string html = render_plan_report(plan, graph);
  model::write_file_atomically(path, html, "report ");
}

}  // namespace mcusplit::plan
