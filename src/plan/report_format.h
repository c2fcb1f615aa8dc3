// Text helpers of the plan report (plan_report.h): HTML escaping, human-readable
// numbers, axis ticks and the small SVG vocabulary the charts share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcusplit::plan {

struct Plan;

namespace report {

// Escapes & < > " ' so the text is safe in element content and in attribute
// values of either quote style.
std::string html_escape(std::string_view text);

// "512 B", "1.5 KiB", "256 KiB", "3.2 MiB" (binary units).
std::string format_bytes(int64_t bytes);
// Seconds as milliseconds: "0.123 ms", "4.56 ms", "12.3 ms", "250 ms";
// "n/a" if not finite.
std::string format_ms(double seconds);
// Counts with SI prefixes: "950", "12.3 k", "300 M"; with a unit "950 bit/s", "1.0 Gbit/s".
std::string format_count(int64_t count, std::string_view unit = "");
// At most `max_chars` code points, with "..." appended when cut (UTF-8 safe).
std::string shorten(const std::string& text, size_t max_chars);

// An axis from 0 to `top` (>= the data maximum) with ticks every `step`,
// labelled in `unit_name` (one unit = `unit` axis values).
struct Axis {
  double top = 1;
  double step = 1;
  double unit = 1;
  std::string unit_name;
  std::vector<double> ticks() const;
  // "0 ms", "2.5 ms", "64 KiB": every tick in the same unit, no trailing zeros.
  std::string label(double value) const;
};
// About `target` ticks on round numbers (1, 2, 5 x 10^k).
Axis nice_axis(double max_value, int target = 5, const std::string& unit_name = "");
// Same, round in B/KiB/MiB/GiB so byte labels read "64 KiB" rather than "62.5 KiB".
Axis nice_byte_axis(double max_bytes, int target = 5);

// Fixed-point SVG coordinate.
std::string num(double v);
// Opening <svg> of a chart `width` x `height` user units, labelled for screen readers.
std::string svg_open(double width, double height, const std::string& label);
// <text> at (x, y); `attrs` is extra raw attribute text (e.g. ` text-anchor="end"`).
std::string svg_text(double x, double y, const std::string& text, const std::string& attrs = "");
// A whole chart that only says `message`: keeps one <svg> per chart when data is missing.
std::string svg_placeholder(const std::string& label, const std::string& message);

// Device colours (colour-blind-friendly Tableau 10), cycling.
const char* series_colour(size_t index);

// Participant i's display name, never empty; "participant i" if out of range.
std::string participant_name(const Plan& plan, int index);
// Width in user units a column of these labels needs at 12px (rough).
double label_width(const std::vector<std::string>& labels, double min_width, double max_width);

}  // namespace report
}  // namespace mcusplit::plan
