#include "plan/svg_timeline.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "plan/report_format.h"
#include "plan/svg_memory.h"

namespace mcusplit::plan::report {
namespace {

constexpr double kWidth = 960;
constexpr size_t kMaxLabelChars = 28;

std::vector<std::string> short_names(const Plan& plan) {
  std::vector<std::string> names;
  for (size_t i = 0; i < plan.participants.size(); ++i) {
    names.push_back(shorten(participant_name(plan, static_cast<int>(i)), kMaxLabelChars));
  }
  return names;
}

std::string event_title(const Plan& plan, const quant::QGraph& graph, const TimelineEvent& e) {
  std::string what = op_kind_name(e.kind);
  if (e.kind == OpKind::Send) what += " to " + participant_name(plan, e.peer);
  if (e.kind == OpKind::Receive) what += " from " + participant_name(plan, e.peer);
  return fmt::format("{}: {}, {}, {} to {} ({})", participant_name(plan, e.participant), what,
                     step_label(graph, e.step), format_ms(e.start_s), format_ms(e.end_s),
                     format_ms(e.end_s - e.start_s));
}

}  // namespace

std::string svg_timeline(const Plan& plan, const quant::QGraph& graph) {
  const char* label = "Estimated timeline of every participant";
  const int rows = static_cast<int>(plan.participants.size());
  double end_s = std::isfinite(plan.estimated_latency_s) ? plan.estimated_latency_s : 0;
  bool any = false;
  for (const TimelineEvent& e : plan.timeline) {
    if (e.participant < 0 || e.participant >= rows || !std::isfinite(e.end_s)) continue;
    end_s = std::max(end_s, e.end_s);
    any = true;
  }
  if (!any) return svg_placeholder(label, "no timeline in the plan");

  const std::vector<std::string> names = short_names(plan);
  const Axis axis = nice_axis(std::max(end_s * 1e3, 1e-3), 8, "ms");
  const double x0 = label_width(names, 80, 200), pw = kWidth - x0 - 24;
  const double top = 30, row = 24, axis_y = top + row * rows;
  auto x_of = [&](double s) { return x0 + std::clamp(s * 1e3 / axis.top, 0.0, 1.0) * pw; };

  std::string out = svg_open(kWidth, axis_y + 40, label);
  // Legend first, above the rows.
  double lx = x0;
  for (const char* kind : {"compute", "send", "receive"}) {
    out += fmt::format("<rect class=\"{}\" x=\"{}\" y=\"6\" width=\"14\" height=\"12\"/>", kind,
                       num(lx));
    out += svg_text(lx + 20, 16, kind);
    lx += 100;
  }
  out += "\n";
  for (int r = 0; r < rows; ++r) {
    const double y = top + row * r;
    if (r % 2) {
      out += fmt::format("<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                         num(x0), num(y), num(pw), num(row));
    }
    out += svg_text(x0 - 6, y + 16, names[static_cast<size_t>(r)], " text-anchor=\"end\"") + "\n";
  }
  for (double t : axis.ticks()) {
    const double x = x0 + t / axis.top * pw;
    out += fmt::format("<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>", num(x),
                       num(top), num(axis_y));
    out += svg_text(x, axis_y + 16, axis.label(t), " text-anchor=\"middle\"") + "\n";
  }
  // Compute fills the row; sends (top half) and receives (bottom half) are drawn
  // over it so communication overlapping computation stays visible.
  for (int pass = 0; pass < 2; ++pass) {
    for (const TimelineEvent& e : plan.timeline) {
      if (e.participant < 0 || e.participant >= rows) continue;
      const bool compute = e.kind == OpKind::Compute;
      if (compute != (pass == 0)) continue;
      const double x = x_of(e.start_s), y = top + row * e.participant;
      const double w = std::max(0.5, x_of(e.end_s) - x);  // zero-length events stay visible
      const double ry = e.kind == OpKind::Receive ? y + 12 : y + 3;
      const double rh = compute ? 18 : 9;
      const char* cls = compute                     ? "compute"
                        : e.kind == OpKind::Send    ? "send"
                        : e.kind == OpKind::Receive ? "receive"
                                                    : "other";
      out += fmt::format(
          "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" "
          "height=\"{}\"><title>{}</title></rect>\n",
          cls, num(x), num(ry), num(w), num(rh), html_escape(event_title(plan, graph, e)));
    }
  }
  if (std::isfinite(plan.estimated_latency_s) && plan.estimated_latency_s > 0) {
    const double x = x_of(plan.estimated_latency_s);
    out += fmt::format(
        "<line class=\"limit\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"><title>estimated "
        "latency {3}</title></line>\n",
        num(x), num(top - 4), num(axis_y), format_ms(plan.estimated_latency_s));
  }
  out += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>\n",
                     num(x0), num(axis_y), num(x0 + pw));
  out += svg_text(x0 + pw / 2, axis_y + 34, "time (ms)", " text-anchor=\"middle\" class=\"note\"");
  return out + "\n</svg>\n";
}

std::vector<std::vector<int64_t>> traffic_matrix(const Plan& plan) {
  const size_t n = plan.participants.size();
  std::vector<std::vector<int64_t>> bytes(n, std::vector<int64_t>(n, 0));
  for (size_t from = 0; from < n; ++from) {
    for (const PlanOp& op : plan.participants[from].ops) {
      if (op.kind != OpKind::Send || op.peer < 0 || op.peer >= static_cast<int>(n)) continue;
      bytes[from][static_cast<size_t>(op.peer)] += op.box.volume();
    }
  }
  return bytes;
}

std::string svg_traffic_matrix(const Plan& plan) {
  const char* label = "Bytes sent between participants";
  const size_t n = plan.participants.size();
  if (n == 0) return svg_placeholder(label, "no participants in the plan");
  const std::vector<std::vector<int64_t>> bytes = traffic_matrix(plan);
  int64_t max_bytes = 0;
  for (const auto& r : bytes)
    max_bytes = std::max(max_bytes, *std::max_element(r.begin(), r.end()));

  const std::vector<std::string> names = short_names(plan);
  const double lw = label_width(names, 60, 200), cw = 80, ch = 26;
  // Column labels run upwards, so the header is as tall as the longest label.
  const double x0 = lw + 8, y0 = lw + 12, nd = static_cast<double>(n);
  std::string out = svg_open(std::max(x0 + cw * nd + 12, 320.0), y0 + ch * nd + 28, label);
  out += svg_text(4, y0 - 6, "from \\ to", " class=\"note\"") + "\n";
  for (size_t i = 0; i < n; ++i) {
    const double x = x0 + cw * static_cast<double>(i) + cw / 2 + 4;
    out +=
        svg_text(0, 0, names[i],
                 fmt::format(" transform=\"translate({},{}) rotate(-90)\"", num(x), num(y0 - 6)));
    out +=
        svg_text(x0 - 6, y0 + ch * static_cast<double>(i) + 17, names[i], " text-anchor=\"end\"") +
        "\n";
  }
  for (size_t from = 0; from < n; ++from) {
    for (size_t to = 0; to < n; ++to) {
      const int64_t b = bytes[from][to];
      const double x = x0 + cw * static_cast<double>(to), y = y0 + ch * static_cast<double>(from);
      const double heat =
          b > 0 ? 0.12 + 0.88 * static_cast<double>(b) / static_cast<double>(max_bytes) : 0;
      const std::string title = fmt::format("sent from {} to {}: {} bytes",
                                            participant_name(plan, static_cast<int>(from)),
                                            participant_name(plan, static_cast<int>(to)), b);
      out += "<g><title>" + html_escape(title) + "</title>";
      out += b > 0 ? fmt::format("<rect class=\"heat\" fill-opacity=\"{:.2f}\"", heat)
                   : std::string("<rect class=\"empty\"");
      out += fmt::format(" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", num(x + 1), num(y + 1),
                         num(cw - 2), num(ch - 2));
      out += svg_text(
          x + cw / 2, y + 17, b > 0 ? format_bytes(b) : "-",
          heat > 0.55 ? " text-anchor=\"middle\" class=\"on-dark\"" : " text-anchor=\"middle\"");
      out += "</g>\n";
    }
  }
  out += svg_text(x0, y0 + ch * nd + 20, "rows send, columns receive", " class=\"note\"");
  return out + "\n</svg>\n";
}

}  // namespace mcusplit::plan::report
