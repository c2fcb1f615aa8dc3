#include "host/ethernet_network.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "host/child_process.h"
#include "host/ethernet_addresses.h"

namespace mcusplit::host {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// Ports of the main switch: one per device and the bridge, and a few to
// spare (a test's own plugs).
constexpr int kSpareSwitchPorts = 4;
// A device's own switch: its NIC and its wirefilter.
constexpr int kDeviceSwitchPorts = 4;
// How long a program that was told to end (its stdin closed) may take to
// clean up before it is killed.
constexpr milliseconds kStopGrace{500};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last non-empty line of `text`, for an error message.
std::string last_line(const std::string& text) {
  const size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

bool is_socket(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// True once `pid` has exited (and is reaped).
bool reaped(pid_t pid) {
  int status = 0;
  pid_t r = 0;
  while ((r = ::waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  return r == pid || r < 0;
}

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

}  // namespace

EthernetNetwork::EthernetNetwork(int device_count, const LinkShaping& shaping,
                                 milliseconds start_timeout)
    : dir_("mcusplit-ethernet") {
  vde_switch_ = find_program("vde_switch");
  if (vde_switch_.empty()) {
    throw Error("--link ethernet needs vde_switch, which was not found (apt-get install vde2)",
                kExitFailure);
  }
  if (shaping.any()) {
    wirefilter_ = find_program("wirefilter");
    if (wirefilter_.empty()) {
      throw Error(
          "--link-rate, --link-delay and --loss need wirefilter, which was not found "
          "(apt-get install vde2)",
          kExitFailure);
    }
  }
  for (int i = 0; i < device_count; ++i) device_mac(i);  // throws if there are too many
  const SteadyClock::time_point deadline = SteadyClock::now() + start_timeout;
  switch_path_ = dir_.path() + "/switch";
  try {
    main_switch_ = start(vde_switch_,
                         {"vde_switch", "-s", switch_path_, "-n",
                          std::to_string(device_count + 1 + kSpareSwitchPorts)},
                         "the Ethernet switch (vde_switch)", "switch.log");
    await(
        main_switch_, [&] { return is_socket(switch_path_ + "/ctl"); }, deadline);
    filters_.resize(static_cast<size_t>(device_count));
    for (int i = 0; i < device_count; ++i) {
      if (shaping.any()) {
        start_shaped_link(i, shaping, deadline);
      } else {
        plugs_.push_back(switch_path_);
      }
    }
  } catch (...) {
    stop_all();
    throw;
  }
}

EthernetNetwork::~EthernetNetwork() {
  stop_all();
}

void EthernetNetwork::start_shaped_link(int device, const LinkShaping& shaping,
                                        SteadyClock::time_point deadline) {
  const std::string name = "device" + std::to_string(device);
  const std::string plug = dir_.path() + "/" + name;
  device_switches_.push_back(
      start(vde_switch_, {"vde_switch", "-s", plug, "-n", std::to_string(kDeviceSwitchPorts)},
            "the Ethernet switch of device " + std::to_string(device) + " (vde_switch)",
            name + "-switch.log"));
  await(
      device_switches_.back(), [&] { return is_socket(plug + "/ctl"); }, deadline);
  std::vector<std::string> args = {"wirefilter", "-v", plug + ":" + switch_path_};
  if (shaping.rate_bits_per_s) {
    args.insert(args.end(),
                {"-b", std::to_string(std::max<int64_t>(1, *shaping.rate_bits_per_s / 8))});
  }
  if (shaping.delay_ms) args.insert(args.end(), {"-d", std::to_string(*shaping.delay_ms)});
  if (shaping.loss) args.insert(args.end(), {"-l", number_text(*shaping.loss * 100.0)});
  Process& filter = filters_[static_cast<size_t>(device)];
  filter = start(wirefilter_, std::move(args),
                 "the link filter of device " + std::to_string(device) + " (wirefilter)",
                 name + "-wirefilter.log");
  // It says so once it has plugged into both switches.
  const std::string log = filter.log;
  await(
      filter, [&] { return read_text(log).find("starting") != std::string::npos; }, deadline);
  plugs_.push_back(plug);
}

EthernetNetwork::Process EthernetNetwork::start(const std::string& program,
                                                std::vector<std::string> args, std::string what,
                                                const std::string& log_name) {
  ChildIo io;
  io.merge_stderr = true;
  io.stdin_pipe = true;
  io.output_file = dir_.path() + "/" + log_name;
  const Child child = spawn_child(program, std::move(args), io, what);
  Process p;
  p.pid = child.pid;
  p.input_fd = child.input_fd;
  p.log = io.output_file;
  p.what = std::move(what);
  return p;
}

template <typename Ready>
void EthernetNetwork::await(Process& p, Ready done, SteadyClock::time_point deadline) {
  while (!done()) {
    if (reaped(p.pid)) {
      p.pid = -1;
      const std::string said = last_line(read_text(p.log));
      throw Error("cannot start " + p.what + (said.empty() ? "" : ": " + said), kExitFailure);
    }
    if (SteadyClock::now() >= deadline) {
      throw Error(p.what + " did not come up in time", kExitFailure);
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
}

std::vector<std::string> EthernetNetwork::qemu_nic_args(int device) const {
  // A comma would end QEMU's option value; the temporary directory has none
  // unless $TMPDIR does.
  std::string plug;
  for (char c : device_plug(device)) {
    plug += c;
    if (c == ',') plug += ',';
  }
  return {"-nic", "vde,sock=" + plug + ",model=lan9118,mac=" + mac_text(device_mac(device))};
}

bool EthernetNetwork::cut_link(int device) {
  if (device < 0 || static_cast<size_t>(device) >= filters_.size()) return false;
  Process& filter = filters_[static_cast<size_t>(device)];
  if (filter.pid < 0) return false;
  ::kill(filter.pid, SIGKILL);
  stop(filter);
  return true;
}

void EthernetNetwork::stop(Process& p) {
  if (p.input_fd >= 0) {
    ::close(p.input_fd);  // the end of its stdin: it cleans up and exits
    p.input_fd = -1;
  }
  if (p.pid < 0) return;
  const SteadyClock::time_point deadline = SteadyClock::now() + kStopGrace;
  while (!reaped(p.pid)) {
    if (SteadyClock::now() >= deadline) {
      ::kill(p.pid, SIGKILL);
      int status = 0;
      while (::waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  p.pid = -1;
}

void EthernetNetwork::stop_all() {
  // The filters first: they are plugged into the switches.
  for (Process& p : filters_) stop(p);
  for (Process& p : device_switches_) stop(p);
  stop(main_switch_);
}

}  // namespace mcusplit::host
