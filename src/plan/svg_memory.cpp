#include "plan/svg_memory.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "plan/report_format.h"

namespace mcusplit::plan::report {
namespace {

constexpr double kWidth = 960;
constexpr size_t kMaxLabelChars = 28;

std::vector<int> device_indices(const Plan& plan) {
  std::vector<int> out;
  for (size_t i = 0; i < plan.participants.size(); ++i) {
    if (!plan.participants[i].coordinator) out.push_back(static_cast<int>(i));
  }
  return out;
}

// Gridlines and labels of a byte axis along y, from y_bottom (0) up by height.
std::string y_byte_axis(const Axis& axis, double x0, double x1, double y_bottom, double height) {
  std::string out;
  for (double t : axis.ticks()) {
    const double y = y_bottom - t / axis.top * height;
    out += fmt::format("<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", num(x0),
                       num(y), num(x1), num(y));
    out += svg_text(x0 - 6, y + 4, axis.label(t), " text-anchor=\"end\"") + "\n";
  }
  return out;
}

}  // namespace

std::string ram_warn_classes(int64_t peak_bytes, int64_t budget_bytes) {
  if (budget_bytes <= 0) return "";
  if (peak_bytes > budget_bytes) return " warn over";
  if (static_cast<double>(peak_bytes) > kRamWarnFraction * static_cast<double>(budget_bytes)) {
    return " warn";
  }
  return "";
}

std::string step_label(const quant::QGraph& graph, int step) {
  if (step >= 0 && step < static_cast<int>(graph.layers.size())) {
    return fmt::format("step {} ({})", step, graph.layers[static_cast<size_t>(step)].name);
  }
  if (step == static_cast<int>(graph.layers.size())) return fmt::format("step {} (output)", step);
  return fmt::format("step {}", step);
}

std::string svg_ram_bars(const Plan& plan) {
  const char* label = "Peak RAM of each device against its budget";
  const std::vector<int> devices = device_indices(plan);
  if (devices.empty()) return svg_placeholder(label, "no devices in the plan");

  std::vector<std::string> names;
  double max_bytes = 1;
  for (int d : devices) {
    const ParticipantPlan& p = plan.participants[static_cast<size_t>(d)];
    names.push_back(shorten(participant_name(plan, d), kMaxLabelChars));
    max_bytes = std::max(
        {max_bytes, static_cast<double>(p.peak_ram_bytes()), static_cast<double>(p.ram_bytes)});
  }
  const Axis axis = nice_byte_axis(max_bytes);
  const double x0 = label_width(names, 80, 220), pw = kWidth - x0 - 210;
  const double top = 8, row = 26, bar = 16;
  const double axis_y = top + row * static_cast<double>(devices.size()) + 2;
  auto x_of = [&](double bytes) { return x0 + bytes / axis.top * pw; };

  std::string out = svg_open(kWidth, axis_y + 24, label);
  for (double t : axis.ticks()) {
    out += fmt::format("<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>",
                       num(x_of(t)), num(top), num(axis_y));
    out += svg_text(x_of(t), axis_y + 16, axis.label(t), " text-anchor=\"middle\"") + "\n";
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    const ParticipantPlan& p = plan.participants[static_cast<size_t>(devices[i])];
    const std::string full = participant_name(plan, devices[i]);
    const double y = top + row * static_cast<double>(i);
    std::string value = format_bytes(p.peak_ram_bytes());
    if (p.ram_bytes > 0) {
      value += fmt::format(
          " of {} ({:.0f}%)", format_bytes(p.ram_bytes),
          100.0 * static_cast<double>(p.peak_ram_bytes()) / static_cast<double>(p.ram_bytes));
    } else {
      value += " (no budget)";
    }
    out += "<g><title>" + html_escape(full + ": peak RAM " + value) + "</title>";
    out += svg_text(x0 - 6, y + bar - 3, names[i], " text-anchor=\"end\"");
    out += fmt::format("<rect class=\"bar{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                       ram_warn_classes(p.peak_ram_bytes(), p.ram_bytes), num(x0), num(y),
                       num(x_of(static_cast<double>(p.peak_ram_bytes())) - x0), num(bar));
    if (p.ram_bytes > 0) {
      const double xb = x_of(static_cast<double>(p.ram_bytes));
      out += fmt::format("<line class=\"budget\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>",
                         num(xb), num(y - 3), num(y + bar + 3));
    }
    out += svg_text(x0 + pw + 8, y + bar - 3, value) + "</g>\n";
  }
  out += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>\n",
                     num(x0), num(axis_y), num(x0 + pw));
  return out + "</svg>\n";
}

std::string svg_memory_profile(const Plan& plan, const quant::QGraph& graph) {
  const char* label = "Bytes live at each step on each device";
  const std::vector<int> devices = device_indices(plan);
  size_t steps = 0;
  double max_bytes = 1;
  int64_t budget = 0;  // smallest device budget; 0 if none is bounded
  int budget_device = -1;
  for (int d : devices) {
    const ParticipantPlan& p = plan.participants[static_cast<size_t>(d)];
    steps = std::max(steps, p.estimate.live_bytes.size());
    for (int64_t b : p.estimate.live_bytes) max_bytes = std::max(max_bytes, static_cast<double>(b));
    if (p.ram_bytes > 0 && (budget == 0 || p.ram_bytes < budget)) {
      budget = p.ram_bytes;
      budget_device = d;
    }
  }
  if (steps == 0) return svg_placeholder(label, "no memory profile in the plan");

  // A budget far above the data would flatten every line: then it is only named.
  const bool budget_on_scale = budget > 0 && static_cast<double>(budget) <= 2 * max_bytes;
  const Axis axis = nice_byte_axis(
      budget_on_scale ? std::max(max_bytes, static_cast<double>(budget)) : max_bytes);
  const double x0 = 80, pw = kWidth - x0 - 24, top = 12, ph = 260, bottom = top + ph;
  auto x_of = [&](size_t step) {
    return steps > 1 ? x0 + static_cast<double>(step) * pw / static_cast<double>(steps - 1)
                     : x0 + pw / 2;
  };
  auto y_of = [&](double bytes) { return bottom - bytes / axis.top * ph; };

  const double per_row = std::max(1.0, std::floor(pw / 190));
  const double legend_rows = std::ceil(static_cast<double>(devices.size()) / per_row);
  std::string out = svg_open(kWidth, bottom + 48 + 18 * legend_rows, label);
  out += y_byte_axis(axis, x0, x0 + pw, bottom, ph);
  const size_t stride = std::max<size_t>(1, (steps + 15) / 16);
  for (size_t s = 0; s < steps; s += stride) {
    const bool output_step = s == graph.layers.size();
    out += svg_text(x_of(s), bottom + 16, output_step ? "out" : std::to_string(s),
                    " text-anchor=\"middle\"");
  }
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "\n" + string.
  out += '\n';
  out += svg_text(x0 + pw / 2, bottom + 34, "step (layer index; \"out\" = output collection)",
                  " text-anchor=\"middle\" class=\"note\"");
  out += '\n';
  out += fmt::format("<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\"/>\n",
                     num(x0), num(bottom), num(x0 + pw));
  const std::string budget_text = fmt::format(
      "smallest RAM budget ({}): {}", participant_name(plan, budget_device), format_bytes(budget));
  if (budget > 0 && !budget_on_scale) {
    out += svg_text(x0 + pw - 4, top + 4, budget_text + ", above this scale",
                    " text-anchor=\"end\" class=\"note\"") +
           "\n";
  } else if (budget > 0) {
    const double y = y_of(static_cast<double>(budget));
    const std::string& text = budget_text;
    out += fmt::format("<line class=\"limit\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"><title>{}",
                       num(x0), num(y), num(x0 + pw), num(y), html_escape(text)) +
           "</title></line>" + svg_text(x0 + pw - 4, y - 5, text, " text-anchor=\"end\"") + "\n";
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    const ParticipantPlan& p = plan.participants[static_cast<size_t>(devices[i])];
    const std::string name = participant_name(plan, devices[i]);
    const char* colour = series_colour(i);
    std::string points, dots;
    for (size_t s = 0; s < p.estimate.live_bytes.size(); ++s) {
      const int64_t b = p.estimate.live_bytes[s];
      const double x = x_of(s), y = y_of(static_cast<double>(b));
      if (s > 0) points += ' ';
      points += num(x);
      points += ',';
      points += num(y);
      dots += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.5\"><title>{}</title></circle>",
                          num(x), num(y),
                          html_escape(name + ", " + step_label(graph, static_cast<int>(s)) + ": " +
                                      format_bytes(b) + " live"));
    }
    out += fmt::format("<g class=\"series\" stroke=\"{0}\" fill=\"{0}\"><title>{1}</title>", colour,
                       html_escape(name));
    out +=
        "<polyline fill=\"none\" stroke-width=\"2\" points=\"" + points + "\"/>" + dots + "</g>\n";
    // Legend below the axis caption, wrapping into rows.
    const double lx = x0 + 190 * std::fmod(static_cast<double>(i), per_row);
    const double ly = bottom + 52 + 18 * std::floor(static_cast<double>(i) / per_row);
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"4\" fill=\"{}\"/>", num(lx),
                       num(ly - 6), colour);
    out += svg_text(lx + 20, ly, shorten(name, kMaxLabelChars)) + "\n";
  }
  return out + "</svg>\n";
}

}  // namespace mcusplit::plan::report
