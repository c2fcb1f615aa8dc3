#include "plan/cluster_file.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "common/error.h"
#include "plan/byte_size.h"
#include "plan/device_namer.h"
#include "plan/device_profiles.h"
#include "plan/devices_shorthand.h"

namespace mcusplit::plan {

namespace {

using nlohmann::json;

// Unknown keys are rejected so that a typo ("ram_byte") is not silently
// replaced by a profile default.
void reject_unknown_keys(const json& object, std::initializer_list<const char*> known,
                         const std::string& where) {
  for (const auto& item : object.items()) {
    bool found = false;
    for (const char* k : known) found = found || item.key() == k;
    if (!found) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      throw Error(where + ": unknown key '" + item.key() + "' (known: " + list + ")");
    }
  }
}

std::string string_field(const json& object, const char* key, const std::string& where) {
  const json& value = object.at(key);
  if (!value.is_string()) throw Error(where + ": '" + key + "' must be a string");
  return value.get<std::string>();
}

// A byte count: a positive integer or a size string such as "256KiB".
int64_t bytes_field(const json& object, const char* key, const std::string& where) {
  const json& value = object.at(key);
  const std::string bad = where + ": '" + key + "' ";
  if (value.is_string()) {
    try {
      return parse_byte_size(value.get<std::string>());
    } catch (const Error& e) {
      throw Error(where + ": '" + key + "': " + e.what());
    }
  }
  if (value.is_number_unsigned()) {
    const uint64_t bytes = value.get<uint64_t>();
    if (bytes == 0) throw Error(bad + "must be positive");
    if (bytes > (uint64_t{1} << 62)) throw Error(bad + "is too large");
    return static_cast<int64_t>(bytes);
  }
  if (value.is_number_integer()) throw Error(bad + "must be positive");  // negative
  throw Error(bad + "must be a positive integer or a size string such as \"256KiB\"");
}

// A finite number, positive (rates) or at least zero (latency).
double number_field(const json& object, const char* key, bool allow_zero,
                    const std::string& where) {
  const json& value = object.at(key);
  const std::string bad = where + ": '" + key + "' ";
  if (!value.is_number()) throw Error(bad + "must be a number");
  const double number = value.get<double>();
  if (!std::isfinite(number)) throw Error(bad + "must be finite");
  if (allow_zero ? number < 0 : number <= 0) {
    throw Error(bad + (allow_zero ? "must not be negative" : "must be positive"));
  }
  return number;
}

// A whole number of at least zero, at most `limit`.
int64_t whole_field(const json& object, const char* key, int64_t limit, const std::string& where) {
  const json& value = object.at(key);
  if (!value.is_number_unsigned() || value.get<uint64_t>() > static_cast<uint64_t>(limit)) {
    throw Error(where + ": '" + key + "' must be a whole number from 0 to " +
                std::to_string(limit));
  }
  return static_cast<int64_t>(value.get<uint64_t>());
}

int count_field(const json& entry, const std::string& where) {
  if (!entry.contains("count")) return 1;
  const json& value = entry.at("count");
  if (!value.is_number_integer() || value.get<int64_t>() <= 0) {
    throw Error(where + ": 'count' must be a positive integer");
  }
  if (value.get<int64_t>() > kMaxDeviceCount) {
    throw Error(where + ": 'count' is larger than " + std::to_string(kMaxDeviceCount));
  }
  return value.get<int>();
}

std::string missing(const char* key) {
  return std::string(": missing '") + key + "' (required without a 'profile')";
}

// Compute rate: macs_per_second, or clock_hz * 1/cycles_per_mac where either
// half may come from the profile.
void read_compute_rate(const json& entry, const DeviceProfile* profile, DeviceSpec& device,
                       const std::string& where) {
  const bool has_rate = entry.contains("macs_per_second");
  const bool has_clock = entry.contains("clock_hz");
  const bool has_cycles = entry.contains("cycles_per_mac");
  if (has_rate && (has_clock || has_cycles)) {
    throw Error(where + ": give 'macs_per_second' or 'clock_hz' and 'cycles_per_mac', not both");
  }
  if (has_rate) {
    device.macs_per_second = number_field(entry, "macs_per_second", false, where);
  } else if (has_clock || has_cycles) {
    if (profile == nullptr && !has_clock) throw Error(where + missing("clock_hz"));
    if (profile == nullptr && !has_cycles) throw Error(where + missing("cycles_per_mac"));
    const double clock =
        has_clock ? number_field(entry, "clock_hz", false, where) : profile->clock_hz;
    const double cycles =
        has_cycles ? number_field(entry, "cycles_per_mac", false, where) : profile->cycles_per_mac;
    device.macs_per_second = clock / cycles;
    device.clock_hz = clock;
  } else if (profile == nullptr) {
    throw Error(where + missing("macs_per_second") + "; or give 'clock_hz' and 'cycles_per_mac'");
  }
}

// nlohmann's messages start with "[json.exception.parse_error.101] ". Its
// parser throws parse_error for bad syntax and out_of_range for a number no
// double or integer holds ("1e400"): json::exception catches both.
std::string parse_error_text(const json::exception& e) {
  std::string text = e.what();
  const size_t tag_end = text.find("] ");
  if (text.rfind("[json.exception.", 0) == 0 && tag_end != std::string::npos) {
    text = text.substr(tag_end + 2);
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// Optional: single kernels' own rates (docs/cluster.md, "Kernel rates"), as
// work units per second or as cycles per work unit at the device's clock.
void read_kernel_rates(const json& entry, DeviceSpec& device, const std::string& where) {
  const bool has_rates = entry.contains("kernel_rates");
  const bool has_cycles = entry.contains("kernel_cycles");
  if (!has_rates && !has_cycles) return;
  if (has_rates && has_cycles)
    throw Error(where + ": give 'kernel_rates' or 'kernel_cycles', not both");
  const char* key = has_rates ? "kernel_rates" : "kernel_cycles";
  const json& rates = entry.at(key);
  const std::string rates_where = where + ": " + key;
  if (!rates.is_object()) {
    throw Error(rates_where + " must be an object of kernel: " +
                (has_rates ? "work units per second" : "cycles per work unit"));
  }
  if (has_cycles && device.clock_hz <= 0) {
    throw Error(where + ": 'kernel_cycles' needs the device's 'clock_hz' (or a profile's)");
  }
  device.kernel_rates.clear();
  // Named references, not a structured binding: clang before 16 cannot
  // capture a binding in the lambda below.
  for (const auto& item : rates.items()) {
    const std::string& kernel = item.key();
    const json& value = item.value();
    if (has_rates || !value.is_object()) {
      const double figure = number_field(rates, kernel.c_str(), false, rates_where);
      device.kernel_rates.push_back(
          KernelRate{kernel, has_rates ? figure : device.clock_hz / figure, 0, 0, 0, 0});
      continue;
    }
    // Cycles per work unit, and optionally per output value, input value,
    // output position and call.
    const std::string kernel_where = rates_where + ": " + kernel;
    reject_unknown_keys(value, {"work", "output", "input", "pixel", "call"}, kernel_where);
    if (!value.contains("work")) throw Error(kernel_where + ": missing 'work'");
    const double clock = device.clock_hz;
    auto cycles = [&](const char* term) {
      return value.contains(term) ? number_field(value, term, true, kernel_where) : 0.0;
    };
    device.kernel_rates.push_back(KernelRate{
        kernel, clock / number_field(value, "work", false, kernel_where), cycles("output") / clock,
        cycles("input") / clock, cycles("pixel") / clock, cycles("call") / clock});
  }
}

// Optional: `mcusplit calibrate`'s profile (a file, relative to the cluster
// file): each kernel's instructions per work unit on an emulated core, as the
// device's cycles at its clock (one instruction a cycle), or at the
// calibration's clock (the emulated core's under -icount) if it has none.
// A cluster or calibration file's text. Such a file is a few KB: anything
// but a regular file (a directory, /dev/zero, a FIFO), or one over 16 MiB, is
// refused before a byte is read, so a wrong path cannot hang the reader.
constexpr std::uintmax_t kMaxJsonFileBytes = std::uintmax_t{16} << 20;

std::string read_json_file(const std::filesystem::path& path, const std::string& origin) {
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) throw Error(origin + ": cannot open");
  if (std::filesystem::is_directory(status)) throw Error(origin + ": is a directory");
  if (!std::filesystem::is_regular_file(status)) throw Error(origin + ": not a regular file");
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw Error(origin + ": cannot read");
  if (size > kMaxJsonFileBytes) {
    throw Error(origin + ": " + std::to_string(size) +
                " bytes, more than a cluster description holds (16 MiB at most)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(origin + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(origin + ": cannot read");
  return text.str();
}

void read_calibration(const json& entry, DeviceSpec& device, const std::string& where,
                      const std::string& base_dir) {
  if (!entry.contains("calibration")) return;
  if (entry.contains("kernel_rates") || entry.contains("kernel_cycles")) {
    throw Error(where + ": give 'calibration' or kernel rates, not both");
  }
  std::filesystem::path path = string_field(entry, "calibration", where);
  if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
  const std::string origin = where + ": calibration '" + path.string() + "'";
  const std::string text = read_json_file(path, origin);
  json calibration;
  try {
    calibration = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(origin + ": malformed JSON: " + parse_error_text(e));
  }
  if (!calibration.is_object() || !calibration.contains("kernel_cycles") ||
      !calibration.contains("clock_hz")) {
    throw Error(origin +
                ": not a calibration (mcusplit calibrate -o): needs 'kernel_cycles' and "
                "'clock_hz'");
  }
  if (device.clock_hz <= 0) device.clock_hz = number_field(calibration, "clock_hz", false, origin);
  read_kernel_rates(calibration, device, origin);
}

// Optional: the emulated board the device boots on (`run --targets qemu`).
void read_board(const json& entry, DeviceSpec& device, const std::string& where) {
  if (!entry.contains("board")) return;
  device.board = string_field(entry, "board", where);
  if (find_board_profile(device.board) == nullptr) {
    throw Error(where + ": unknown board '" + device.board + "' (known: " + known_board_names() +
                ")");
  }
}

void read_link(const json& entry, const DeviceProfile* profile, DeviceSpec& device,
               const std::string& where) {
  if (!entry.contains("link")) {
    if (profile == nullptr) throw Error(where + missing("link"));
    return;
  }
  const json& link = entry.at("link");
  const std::string link_where = where + ": link";
  if (!link.is_object()) throw Error(link_where + " must be an object");
  reject_unknown_keys(
      link,
      {"bits_per_second", "latency_s", "frame_overhead_bytes", "window_frames", "ack_round_trip_s"},
      link_where);
  if (link.contains("bits_per_second")) {
    device.link_bits_per_second = number_field(link, "bits_per_second", false, link_where);
  } else if (profile == nullptr) {
    throw Error(link_where + missing("bits_per_second"));
  }
  if (link.contains("latency_s")) {
    device.link_latency_s = number_field(link, "latency_s", true, link_where);
  } else if (profile == nullptr) {
    throw Error(link_where + missing("latency_s"));
  }
  // Optional: how frames go (docs/cluster.md, "Links that acknowledge").
  if (link.contains("frame_overhead_bytes")) {
    device.link_frame_overhead_bytes = whole_field(link, "frame_overhead_bytes", 65536, link_where);
  }
  if (link.contains("window_frames")) {
    device.link_window_frames = whole_field(link, "window_frames", 1 << 20, link_where);
  }
  if (link.contains("ack_round_trip_s")) {
    device.link_ack_round_trip_s = number_field(link, "ack_round_trip_s", true, link_where);
  }
}

// One "devices" entry, expanded by its count.
void read_device_entry(const json& entry, const std::string& where, const std::string& base_dir,
                       DeviceNamer& namer, ClusterSpec& cluster) {
  if (!entry.is_object()) throw Error(where + " must be an object");
  reject_unknown_keys(
      entry,
      {"name", "profile", "count", "ram_bytes", "flash_bytes", "macs_per_second", "clock_hz",
       "cycles_per_mac", "kernel_rates", "kernel_cycles", "calibration", "board", "link"},
      where);
  const DeviceProfile* profile = nullptr;
  DeviceSpec device;
  if (entry.contains("profile")) {
    profile = &device_profile(string_field(entry, "profile", where), where);
    device = device_from_profile(*profile, "");
  }
  if (entry.contains("ram_bytes")) {
    device.ram_bytes = bytes_field(entry, "ram_bytes", where);
  } else if (profile == nullptr) {
    throw Error(where + missing("ram_bytes"));
  }
  if (entry.contains("flash_bytes")) {
    device.flash_bytes = bytes_field(entry, "flash_bytes", where);
  } else if (profile == nullptr) {
    throw Error(where + missing("flash_bytes"));
  }
  read_compute_rate(entry, profile, device, where);
  read_kernel_rates(entry, device, where);
  read_calibration(entry, device, where, base_dir);
  read_board(entry, device, where);
  read_link(entry, profile, device, where);

  const int count = count_field(entry, where);
  const std::string name = entry.contains("name") ? string_field(entry, "name", where) : "";
  if (cluster.device_count() + count > kMaxDeviceCount) {
    throw Error(where + ": more than " + std::to_string(kMaxDeviceCount) + " devices");
  }
  for (int k = 0; k < count; ++k) {
    // An explicit name is kept for one device and numbered for several.
    if (!name.empty()) {
      device.name = count == 1 ? name : name + "-" + std::to_string(k);
    } else {
      device.name = namer.next(profile != nullptr ? profile->name : "device");
    }
    cluster.devices.push_back(device);
  }
}

}  // namespace

ClusterSpec parse_cluster_json(const std::string& text, const std::string& origin,
                               const std::string& base_dir) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(origin + ": malformed JSON: " + parse_error_text(e));
  }
  if (!root.is_object()) throw Error(origin + ": the top level must be a JSON object");
  reject_unknown_keys(root, {"topology", "devices"}, origin);

  ClusterSpec cluster;
  if (root.contains("topology")) {
    const std::string topology = string_field(root, "topology", origin);
    try {
      cluster.topology = parse_topology(topology);
    } catch (const Error& e) {
      throw Error(origin + ": " + e.what());
    }
  }
  if (!root.contains("devices")) throw Error(origin + ": missing 'devices'");
  const json& devices = root.at("devices");
  if (!devices.is_array()) throw Error(origin + ": 'devices' must be an array");
  if (devices.empty()) throw Error(origin + ": 'devices' is empty");
  DeviceNamer namer;
  for (size_t i = 0; i < devices.size(); ++i) {
    read_device_entry(devices[i], origin + ": devices[" + std::to_string(i) + "]", base_dir, namer,
                      cluster);
  }
  validate_cluster(cluster, origin);
  return cluster;
}

ClusterSpec read_cluster_file(const std::string& path) {
  const std::string origin = "cluster file '" + path + "'";
  return parse_cluster_json(read_json_file(path, origin), origin,
                            std::filesystem::path(path).parent_path().string());
}

}  // namespace mcusplit::plan
