// libFuzzer target for the cluster file reader (plan/cluster_file,
// docs/cluster.md). For every input:
// - parse it as cluster JSON: it either becomes a cluster or throws
//   mcusplit::Error; anything else (a crash, a sanitizer report, another
//   exception such as one of nlohmann's own) is a bug;
// - whenever it parses, the cluster is one the planner can price: 1 to
//   kMaxDeviceCount devices, every size positive, every rate, latency and kernel cost
//   finite, and the same JSON value written compactly parses to the same
//   cluster (the reader depends on the values, not on their spelling).
// "calibration" names a file relative to the cluster file: here relative to
// a directory that does not exist, so that the fuzzer reads no stray files.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"
#include "plan/cluster_file.h"
#include "plan/devices_shorthand.h"

namespace {

using namespace mcusplit::plan;

constexpr const char* kBaseDir = "/nonexistent-mcusplit-fuzz-dir";

void check(bool ok) {
  if (!ok) std::abort();
}

bool finite_at_least_zero(double v) {
  return std::isfinite(v) && v >= 0;
}
bool finite_positive(double v) {
  return std::isfinite(v) && v > 0;
}

void check_device(const DeviceSpec& d) {
  check(!d.name.empty() && d.ram_bytes > 0 && d.flash_bytes > 0);
  check(finite_positive(d.macs_per_second) && finite_positive(d.link_bits_per_second));
  check(finite_at_least_zero(d.link_latency_s) && finite_at_least_zero(d.link_ack_round_trip_s));
  check(finite_at_least_zero(d.clock_hz));
  check(d.link_frame_overhead_bytes >= 0 && d.link_window_frames >= 0);
  for (const KernelRate& r : d.kernel_rates) {
    check(finite_positive(r.work_per_second));
    check(finite_at_least_zero(r.seconds_per_output) && finite_at_least_zero(r.seconds_per_input));
    check(finite_at_least_zero(r.seconds_per_pixel) && finite_at_least_zero(r.seconds_per_call));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ClusterSpec cluster;
  try {
    cluster = parse_cluster_json(text, "fuzz.json", kBaseDir);
  } catch (const mcusplit::Error&) {
    return 0;  // refused with a message: fine
  }
  check(cluster.device_count() >= 1 && cluster.device_count() <= kMaxDeviceCount);
  for (const DeviceSpec& d : cluster.devices) check_device(d);

  const std::string compact = nlohmann::json::parse(text).dump();
  try {
    check(parse_cluster_json(compact, "fuzz.json", kBaseDir) == cluster);
  } catch (const mcusplit::Error&) {
    std::abort();  // the same value, spelled otherwise, was refused
  }
  return 0;
}
