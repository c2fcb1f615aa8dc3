// The cluster a model is planned onto: its devices (memory, compute rate,
// link) and how their links are joined. docs/cluster.md describes the file
// format and the built-in device profiles.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcusplit::plan {

// Per frame on the wire besides its payload, by default: the wire protocol's
// 76 bytes (header and payload CRC) plus 66 of Ethernet/IPv4/TCP headers with
// timestamps (docs/protocol.md). Raw Ethernet frames carry 76 + 14.
inline constexpr int64_t kTcpFrameOverheadBytes = 142;

// A device's own time for one kernel (a name kernels::OpRegistration's
// kernel_name returns, e.g. "depthwise"): kernels differ several-fold in
// cycles per MAC, and on small boxes each output value's requantization,
// each input value's packing, each output position's loop (spread over few
// outputs in a narrow channel slice) and each invocation's set-up count too.
// An op takes work / work_per_second + outputs * seconds_per_output +
// inputs * seconds_per_input + pixels * seconds_per_pixel + seconds_per_call.
struct KernelRate {
  std::string kernel;
  double work_per_second = 0;     // the cost model's work units (MACs, values moved)
  double seconds_per_output = 0;  // per output value
  double seconds_per_input = 0;   // per input value read
  double seconds_per_pixel = 0;   // per output position (row x column)
  double seconds_per_call = 0;    // per invocation (Compute op)
  friend bool operator==(const KernelRate&, const KernelRate&) = default;
};

struct DeviceSpec {
  std::string name;                 // unique within the cluster
  std::string profile;              // built-in profile it started from, "" if none
  int64_t ram_bytes = 0;            // budget for the static arena
  int64_t flash_bytes = 0;          // budget for weight slices
  double macs_per_second = 0;       // int8 multiply-accumulates per second
  double link_bits_per_second = 0;  // effective payload rate of its link
  double link_latency_s = 0;        // fixed cost of one message
  int64_t link_frame_overhead_bytes = kTcpFrameOverheadBytes;  // per frame besides its payload
  // A sender on this link that waits for an Ack after every `window` frames
  // (0: it streams, as over TCP; 1: the Ethernet firmware), and what one
  // Ack's round trip costs besides serialisation (processing, scheduling).
  int64_t link_window_frames = 0;
  double link_ack_round_trip_s = 0;
  // Rates for the kernels measured apart; any other runs at macs_per_second.
  std::vector<KernelRate> kernel_rates = {};
  double clock_hz = 0;     // its core's clock, 0 if not stated (cycles = seconds * clock)
  std::string board = {};  // the emulated board it boots on (--targets qemu), "" if none
  friend bool operator==(const DeviceSpec&, const DeviceSpec&) = default;
};

// The device's work units per second for `kernel`.
double work_per_second(const DeviceSpec& device, std::string_view kernel);
// What invocations of a kernel do, in all: the counts its cost is linear in.
struct KernelWork {
  int64_t work = 0;     // the cost model's work units
  int64_t outputs = 0;  // values written
  int64_t inputs = 0;   // values read
  int64_t pixels = 0;   // output positions (rows x columns)
  int64_t calls = 0;    // invocations
};
// Seconds the device takes for `w` of `kernel`.
double kernel_seconds(const DeviceSpec& device, std::string_view kernel, const KernelWork& w);
// "conv, pointwise, depthwise, ..." for error messages.
std::string known_kernel_names();

// How device links are joined (the cost model charges transfers by it).
enum class Topology {
  Switched,  // peer to peer through a switch: disjoint pairs talk at once
  Star,      // every frame relayed by the coordinator (the paper's testbed)
  Bus,       // one shared medium: every transfer serialised
};

struct ClusterSpec {
  std::vector<DeviceSpec> devices;
  Topology topology = Topology::Switched;

  int device_count() const { return static_cast<int>(devices.size()); }
  int64_t total_ram_bytes() const;
  int64_t total_flash_bytes() const;
  int64_t min_ram_bytes() const;  // 0 for an empty cluster
  double total_macs_per_second() const;
  // Index of the device with this name, or -1.
  int find_device(const std::string& name) const;
  friend bool operator==(const ClusterSpec&, const ClusterSpec&) = default;
};

// "switched", "star" or "bus"; anything else throws mcusplit::Error.
Topology parse_topology(const std::string& text);
const char* topology_name(Topology topology);

// Throws mcusplit::Error (exit code 2), prefixed by `origin`, unless the
// cluster has at least one device, unique well-formed names, and positive
// finite sizes and rates (latency may be zero).
void validate_cluster(const ClusterSpec& cluster, const std::string& origin);

// `--ram`: every device gets this RAM budget. Throws unless bytes > 0.
void apply_ram_override(ClusterSpec& cluster, int64_t bytes);

}  // namespace mcusplit::plan
