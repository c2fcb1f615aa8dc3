#include "plan/cluster.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.h"
#include "kernels/op_registry.h"
#include "plan/device_profiles.h"

namespace mcusplit::plan {

int64_t ClusterSpec::total_ram_bytes() const {
  int64_t total = 0;
  for (const DeviceSpec& d : devices) total += d.ram_bytes;
  return total;
}

int64_t ClusterSpec::total_flash_bytes() const {
  int64_t total = 0;
  for (const DeviceSpec& d : devices) total += d.flash_bytes;
  return total;
}

int64_t ClusterSpec::min_ram_bytes() const {
  if (devices.empty()) return 0;
  int64_t least = devices.front().ram_bytes;
  for (const DeviceSpec& d : devices) least = std::min(least, d.ram_bytes);
  return least;
}

double ClusterSpec::total_macs_per_second() const {
  double total = 0;
  for (const DeviceSpec& d : devices) total += d.macs_per_second;
  return total;
}

int ClusterSpec::find_device(const std::string& name) const {
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Topology parse_topology(const std::string& text) {
  if (text == "switched") return Topology::Switched;
  if (text == "star") return Topology::Star;
  if (text == "bus") return Topology::Bus;
  throw Error("unknown topology '" + text + "' (known: switched, star, bus)");
}

const char* topology_name(Topology topology) {
  switch (topology) {
    case Topology::Switched:
      return "switched";
    case Topology::Star:
      return "star";
    case Topology::Bus:
      return "bus";
  }
  return "?";
}

namespace {

// Names end up in plan files, reports and log lines: keep them plain.
bool is_valid_device_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

bool is_positive(double value) {
  return std::isfinite(value) && value > 0;
}

const KernelRate* rate_of(const DeviceSpec& device, std::string_view kernel) {
  for (const KernelRate& r : device.kernel_rates) {
    if (r.kernel == kernel) return &r;
  }
  return nullptr;
}

}  // namespace

double work_per_second(const DeviceSpec& device, std::string_view kernel) {
  const KernelRate* r = rate_of(device, kernel);
  return r != nullptr ? r->work_per_second : device.macs_per_second;
}

double kernel_seconds(const DeviceSpec& device, std::string_view kernel, const KernelWork& w) {
  const KernelRate* r = rate_of(device, kernel);
  if (r == nullptr) return static_cast<double>(w.work) / device.macs_per_second;
  return static_cast<double>(w.work) / r->work_per_second +
         static_cast<double>(w.outputs) * r->seconds_per_output +
         static_cast<double>(w.inputs) * r->seconds_per_input +
         static_cast<double>(w.pixels) * r->seconds_per_pixel +
         static_cast<double>(w.calls) * r->seconds_per_call;
}

std::string known_kernel_names() {
  std::string names;
  for (uint32_t op = 0; op < kernels::kOpTypeCount; ++op) {
    const kernels::OpRegistration& r = kernels::op_registration(static_cast<kernels::OpType>(op));
    for (const char* const* n = r.kernel_names; *n != nullptr; ++n) {
      if (!names.empty()) names += ", ";
      names += *n;
    }
  }
  return names;
}

void validate_cluster(const ClusterSpec& cluster, const std::string& origin) {
  if (cluster.devices.empty()) throw Error(origin + ": no devices");
  std::set<std::string> names;
  for (const DeviceSpec& d : cluster.devices) {
    const std::string where = origin + ": device '" + d.name + "'";
    if (!is_valid_device_name(d.name)) {
      throw Error(where + ": a name is 1 to 64 characters of letters, digits, '_', '-', '.'");
    }
    if (!names.insert(d.name).second)
      throw Error(origin + ": duplicate device name '" + d.name + "'");
    if (d.ram_bytes <= 0) throw Error(where + ": ram_bytes must be positive");
    if (d.flash_bytes <= 0) throw Error(where + ": flash_bytes must be positive");
    if (!is_positive(d.macs_per_second)) throw Error(where + ": compute rate must be positive");
    if (!is_positive(d.link_bits_per_second)) {
      throw Error(where + ": link bits_per_second must be positive");
    }
    if (!std::isfinite(d.link_latency_s) || d.link_latency_s < 0) {
      throw Error(where + ": link latency_s must not be negative");
    }
    if (d.link_frame_overhead_bytes < 0 || d.link_frame_overhead_bytes > 65536) {
      throw Error(where + ": link frame_overhead_bytes must be 0..65536");
    }
    if (d.link_window_frames < 0) throw Error(where + ": link window_frames must not be negative");
    if (!std::isfinite(d.link_ack_round_trip_s) || d.link_ack_round_trip_s < 0) {
      throw Error(where + ": link ack_round_trip_s must not be negative");
    }
    if (!d.board.empty() && find_board_profile(d.board) == nullptr) {
      throw Error(where + ": unknown board '" + d.board + "' (known: " + known_board_names() + ")");
    }
    std::set<std::string> kernels;
    for (const KernelRate& r : d.kernel_rates) {
      if (!kernels::is_kernel_name(r.kernel.c_str())) {
        throw Error(where + ": unknown kernel '" + r.kernel +
                    "' in kernel_rates (known: " + known_kernel_names() + ")");
      }
      if (!kernels.insert(r.kernel).second) {
        throw Error(where + ": kernel '" + r.kernel + "' given twice in kernel_rates");
      }
      if (!is_positive(r.work_per_second)) {
        throw Error(where + ": kernel_rates '" + r.kernel + "' must be positive");
      }
      for (double t :
           {r.seconds_per_output, r.seconds_per_input, r.seconds_per_pixel, r.seconds_per_call}) {
        if (!std::isfinite(t) || t < 0) {
          throw Error(where + ": kernel '" + r.kernel +
                      "': the costs per output, input, pixel and call must not be negative");
        }
      }
    }
  }
}

void apply_ram_override(ClusterSpec& cluster, int64_t bytes) {
  if (bytes <= 0) throw Error("--ram must be positive, got " + std::to_string(bytes));
  for (DeviceSpec& d : cluster.devices) d.ram_bytes = bytes;
}

}  // namespace mcusplit::plan
