// The devices one `mcusplit run` talks to, whatever runs them: workers
// already running (--workers), `mcusplit worker` processes started here, or
// one emulated Cortex-M7 (QEMU) per device, each on its UART or all on one
// emulated Ethernet (a switch and the coordinator's bridge onto it). Started
// for a plan, started again for a re-made plan after a device was lost, and
// checked to have shut down cleanly after the run.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "host/cluster_key.h"
#include "host/ethernet_bridge.h"
#include "host/ethernet_network.h"
#include "host/link_layer.h"
#include "host/local_launcher.h"
#include "host/qemu_launcher.h"
#include "host/run_request.h"
#include "host/socket_io.h"
#include "host/temp_dir.h"
#include "plan/plan_file.h"

namespace mcusplit::host {

class RunDevices {
 public:
  // Starts the devices of `file` unless `request` names running workers;
  // `receive_timeout` is the run's (an Ethernet link with no Ack for that
  // long is dead); `key` is the cluster key read from request.key_file,
  // which emulated devices get in their key slots. Throws mcusplit::Error
  // (exit code 1) if they cannot be started.
  RunDevices(const RunRequest& request, const plan::PlanFile& file,
             std::chrono::milliseconds receive_timeout, const std::optional<ClusterKey>& key);

  // Where the coordinator connects for each device of the current plan, in
  // device order (on Ethernet: the bridge).
  const std::vector<SocketAddress>& addresses() const { return addresses_; }
  // The Ethernet bridge of the current plan's devices; null unless they are
  // on Ethernet.
  LinkLayer* link_layer() { return bridge_ ? &*bridge_ : nullptr; }

  // For `file`, the plan re-made without device `lost`: fresh devices when
  // they were started here, else the survivors (which serve another session,
  // worker --sessions).
  void restart_without(const plan::PlanFile& file, int lost);

  // After a failed run: emulated devices that were told to stop get a moment
  // to exit by themselves (a device that refused the plan exits with code 1)
  // before the rest are killed. Returns "; device ... exited ..." for each
  // that failed, with what it said last (a fault report, say), unless
  // `message` says it already; "" for workers.
  std::string failure_notes(const plan::PlanFile& file, const std::string& message);

  // After a run that succeeded: every device started here must exit cleanly
  // within its grace time (emulated ones: `receive_timeout`, at least 5 s).
  // Throws mcusplit::Error (exit code 1) naming the first that did not.
  void require_clean_shutdown(const plan::PlanFile& file,
                              std::chrono::milliseconds receive_timeout);

 private:
  void start_local(int count);
  void start_qemu(const plan::PlanFile& file);

  const RunRequest& request_;
  std::chrono::milliseconds receive_timeout_;
  std::optional<ClusterKey> key_;
  std::vector<SocketAddress> addresses_;
  std::optional<LocalWorkers> local_;
  std::optional<TempDir> images_dir_;  // device images QEMU loads
  // Declared before the QEMUs so that they go first: they plug into it.
  std::optional<EthernetNetwork> network_;
  std::optional<EthernetBridge> bridge_;
  std::optional<QemuDevices> emulated_;
  int generation_ = 0;  // plans started on emulated devices, naming their images
};

}  // namespace mcusplit::host
