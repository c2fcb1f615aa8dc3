#include "plan/report_format.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "plan/plan.h"

namespace mcusplit::plan::report {
namespace {

// One decimal below 100 units, none above: enough to compare, short to read.
std::string scaled(double value, const std::string& unit) {
  return value >= 99.95 ? fmt::format("{:.0f} {}", value, unit)
                        : fmt::format("{:.1f} {}", value, unit);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_bytes(int64_t bytes) {
  if (bytes < 1024 && bytes > -1024) return fmt::format("{} B", bytes);
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (std::fabs(v) >= 1023.95 && unit + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++unit;
  }
  return scaled(v, kUnits[unit]);
}

std::string format_ms(double seconds) {
  if (!std::isfinite(seconds)) return "n/a";
  const double ms = seconds * 1e3;
  const double mag = std::fabs(ms);
  if (mag >= 99.95) return fmt::format("{:.0f} ms", ms);
  if (mag >= 9.995) return fmt::format("{:.1f} ms", ms);
  if (mag >= 0.9995) return fmt::format("{:.2f} ms", ms);
  return fmt::format("{:.3f} ms", ms);
}

std::string format_count(int64_t count, std::string_view unit) {
  if (count < 1000 && count > -1000) {
    return unit.empty() ? fmt::format("{}", count) : fmt::format("{} {}", count, unit);
  }
  static const char* const kPrefixes[] = {"k", "M", "G", "T"};
  double v = static_cast<double>(count) / 1000.0;
  size_t prefix = 0;
  while (std::fabs(v) >= 999.95 && prefix + 1 < std::size(kPrefixes)) {
    v /= 1000.0;
    ++prefix;
  }
  return scaled(v, std::string(kPrefixes[prefix]) + std::string(unit));
}

std::string shorten(const std::string& text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    // Count code points by their lead bytes, so a cut never splits one.
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (chars++ == max_chars) return text.substr(0, i) + "...";
  }
  return text;
}

std::vector<double> Axis::ticks() const {
  std::vector<double> t;
  if (!(step > 0)) return t;
  for (int i = 0; i * step <= top * (1 + 1e-9) && i <= 100; ++i) t.push_back(i * step);
  return t;
}

std::string Axis::label(double value) const {
  const std::string number = fmt::format("{:.4g}", value / unit);
  return unit_name.empty() ? number : number + " " + unit_name;
}

Axis nice_axis(double max_value, int target, const std::string& unit_name) {
  if (!std::isfinite(max_value) || max_value <= 0) return Axis{1, 1, 1, unit_name};
  const double raw = max_value / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  return Axis{std::ceil(max_value / step - 1e-9) * step, step, 1, unit_name};
}

Axis nice_byte_axis(double max_bytes, int target) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB"};
  double unit = 1;
  size_t u = 0;
  while (max_bytes / unit >= 1024 && u + 1 < std::size(kUnits)) {
    unit *= 1024;
    ++u;
  }
  Axis a = nice_axis(max_bytes / unit, target);
  // Whole bytes only: below 1 B a step means nothing.
  if (u == 0 && a.step < 1) {
    a.top = std::max(1.0, std::ceil(a.top));
    a.step = 1;
  }
  return Axis{a.top * unit, a.step * unit, unit, kUnits[u]};
}

std::string num(double v) {
  if (!std::isfinite(v)) v = 0;
  return fmt::format("{:.1f}", v);
}

std::string svg_open(double width, double height, const std::string& label) {
  // The xmlns keeps the chart valid when saved as a standalone .svg.
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" aria-label=\"{2}\">\n",
      num(width), num(height), html_escape(label));
}

std::string svg_text(double x, double y, const std::string& text, const std::string& attrs) {
  return fmt::format("<text x=\"{}\" y=\"{}\"{}>{}</text>", num(x), num(y), attrs,
                     html_escape(text));
}

std::string svg_placeholder(const std::string& label, const std::string& message) {
  return svg_open(960, 40, label) + svg_text(10, 24, message, " class=\"note\"") + "\n</svg>\n";
}

const char* series_colour(size_t index) {
  static const char* const kColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                         "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kColours[index % std::size(kColours)];
}

std::string participant_name(const Plan& plan, int index) {
  if (index < 0 || index >= static_cast<int>(plan.participants.size())) {
    return fmt::format("participant {}", index);
  }
  const ParticipantPlan& p = plan.participants[static_cast<size_t>(index)];
  if (!p.name.empty()) return p.name;
  return p.coordinator ? "coordinator" : fmt::format("device {}", index);
}

double label_width(const std::vector<std::string>& labels, double min_width, double max_width) {
  size_t longest = 0;
  for (const std::string& l : labels) longest = std::max(longest, l.size());
  return std::clamp(static_cast<double>(longest) * 7.0 + 12.0, min_width, max_width);
}

}  // namespace mcusplit::plan::report
