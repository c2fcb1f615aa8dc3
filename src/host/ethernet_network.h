// The emulated Ethernet of one `mcusplit run --link ethernet`: a vde_switch
// in a private temporary directory that every emulated device's LAN9118 and
// the coordinator's bridge (host/ethernet_bridge.h) plug into. When the run
// shapes the links (host/link_shaping.h), each device instead plugs into a
// switch of its own that a wirefilter joins to the main one, so that rate,
// delay and loss apply to that device's link only, both ways.
//
// The switches and filters run in the foreground as children of this
// process (PR_SET_PDEATHSIG, stdin a pipe held here: they exit at its end),
// their output in log files in the directory; the destructor ends and reaps
// every one and removes the directory with their sockets: no run leaves a
// process, socket or file behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "host/link_shaping.h"
#include "host/temp_dir.h"

namespace mcusplit::host {

class EthernetNetwork {
 public:
  // Throws mcusplit::Error (exit code 1) if vde_switch (or, to shape links,
  // wirefilter) is not installed or does not come up within `start_timeout`;
  // what already started is stopped.
  EthernetNetwork(int device_count, const LinkShaping& shaping,
                  std::chrono::milliseconds start_timeout = std::chrono::seconds(10));
  ~EthernetNetwork();
  EthernetNetwork(const EthernetNetwork&) = delete;
  EthernetNetwork& operator=(const EthernetNetwork&) = delete;

  int device_count() const { return static_cast<int>(plugs_.size()); }
  // The private directory everything lives in (gone after destruction).
  const std::string& directory() const { return dir_.path(); }
  // The main switch (a vde_open path): where the coordinator's bridge plugs in.
  const std::string& switch_path() const { return switch_path_; }
  // Where device `device`'s NIC plugs in: the main switch, or its own
  // switch behind its wirefilter.
  const std::string& device_plug(int device) const {
    return plugs_.at(static_cast<size_t>(device));
  }
  // QEMU's options for that device's NIC on mps2-an500:
  // {"-nic", "vde,sock=PLUG,model=lan9118,mac=02:6d:73:00:01:XX"}.
  std::vector<std::string> qemu_nic_args(int device) const;

  // Kills that device's wirefilter, as if its cable were cut (failure
  // tests). False if its link is not shaped (no wirefilter).
  bool cut_link(int device);

 private:
  struct Process {
    pid_t pid = -1;     // -1 once reaped
    int input_fd = -1;  // its stdin; closing it ends the program
    std::string log;    // its output
    std::string what;   // "the Ethernet switch", named in errors
  };
  Process start(const std::string& program, std::vector<std::string> args, std::string what,
                const std::string& log_name);
  // Waits until `done` holds, or fails if the process exits or time runs out.
  template <typename Ready>
  void await(Process& p, Ready done, std::chrono::steady_clock::time_point deadline);
  void start_shaped_link(int device, const LinkShaping& shaping,
                         std::chrono::steady_clock::time_point deadline);
  static void stop(Process& p);
  void stop_all();

  TempDir dir_;
  std::string switch_path_;
  std::string vde_switch_;  // the programs' paths
  std::string wirefilter_;
  Process main_switch_;
  std::vector<Process> device_switches_;  // shaped links only
  std::vector<Process> filters_;          // by device; pid -1 if none
  std::vector<std::string> plugs_;        // by device
};

}  // namespace mcusplit::host
