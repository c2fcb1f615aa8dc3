#include "plan/devices_shorthand.h"

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "plan/device_namer.h"
#include "plan/device_profiles.h"

namespace mcusplit::plan {

namespace {

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool is_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// The count of "NxPROFILE", 1 when the item has no count prefix.
int parse_count(const std::string& count_text, const std::string& origin) {
  const std::string bad = origin + ": device count '" + count_text + "'";
  if (!is_digits(count_text)) throw Error(bad + " is not a positive integer");
  if (count_text.size() > 6 || std::stoi(count_text) > kMaxDeviceCount) {
    throw Error(bad + " is larger than " + std::to_string(kMaxDeviceCount));
  }
  const int count = std::stoi(count_text);
  if (count <= 0) throw Error(bad + " must be positive");
  return count;
}

}  // namespace

ClusterSpec parse_devices_shorthand(const std::string& spec) {
  const std::string origin = "device spec '" + spec + "'";
  ClusterSpec cluster;
  DeviceNamer namer;
  size_t start = 0;
  while (true) {
    const size_t comma = spec.find(',', start);
    const std::string item =
        trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) throw Error(origin + ": empty item (expected e.g. 8xteensy41)");
    // Profile names contain no 'x', so an 'x' after a leading digit or sign
    // separates the count; anything else is a profile name.
    int count = 1;
    std::string profile_name = item;
    const size_t x = item.find('x');
    const bool has_count =
        x != std::string::npos && x > 0 &&
        (std::isdigit(static_cast<unsigned char>(item[0])) || item[0] == '-' || item[0] == '+');
    if (has_count) {
      count = parse_count(item.substr(0, x), origin);
      profile_name = trim(item.substr(x + 1));
      if (profile_name.empty()) {
        throw Error(origin + ": missing device profile after '" + item +
                    "' (known: " + known_profile_names() + ")");
      }
    }
    const DeviceProfile& profile = device_profile(profile_name, origin);
    if (cluster.device_count() + count > kMaxDeviceCount) {
      throw Error(origin + ": more than " + std::to_string(kMaxDeviceCount) + " devices");
    }
    for (int k = 0; k < count; ++k) {
      cluster.devices.push_back(device_from_profile(profile, namer.next(profile.name)));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  validate_cluster(cluster, origin);
  return cluster;
}

}  // namespace mcusplit::plan
