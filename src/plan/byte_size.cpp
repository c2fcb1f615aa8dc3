#include "plan/byte_size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "common/error.h"

namespace mcusplit::plan {

namespace {

// 0 for an unknown unit.
double unit_multiplier(const std::string& unit) {
  if (unit.empty() || unit == "B") return 1;
  if (unit == "KB" || unit == "kB") return 1e3;
  if (unit == "MB") return 1e6;
  if (unit == "GB") return 1e9;
  if (unit == "KiB" || unit == "kiB") return 1024.0;
  if (unit == "MiB") return 1024.0 * 1024.0;
  if (unit == "GiB") return 1024.0 * 1024.0 * 1024.0;
  return 0;
}

}  // namespace

int64_t parse_byte_size(const std::string& text) {
  const std::string bad = "bad byte size '" + text + "'";
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                             text[i] == '-' || text[i] == '+')) {
    ++i;
  }
  const std::string number = text.substr(0, i);
  while (i < text.size() && text[i] == ' ') ++i;
  const std::string unit = text.substr(i);
  if (number.empty() || !std::isdigit(static_cast<unsigned char>(number.back()))) {
    throw Error(bad + " (expected a number with an optional unit: B, KB, KiB, MB, MiB, GB, GiB)");
  }
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) throw Error(bad + " (not a number)");
  const double multiplier = unit_multiplier(unit);
  if (multiplier == 0) {
    throw Error(bad + " (unknown unit '" + unit + "'; known: B, KB, KiB, MB, MiB, GB, GiB)");
  }
  const double bytes = value * multiplier;
  if (!(bytes > 0)) throw Error(bad + " (must be positive)");
  if (bytes > std::ldexp(1.0, 62)) throw Error(bad + " (too large)");
  if (bytes != std::floor(bytes)) throw Error(bad + " (not a whole number of bytes)");
  return static_cast<int64_t>(bytes);
}

}  // namespace mcusplit::plan
