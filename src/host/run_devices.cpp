#include "host/run_devices.h"

#include <algorithm>
#include <cstdlib>

#include "common/error.h"
#include "host/board_firmware.h"
#include "host/cluster_key.h"
#include "host/device_image_writer.h"
#include "model/file_io.h"

namespace mcusplit::host {
namespace {

// How long `mcusplit worker` processes started here wait to start; what a
// worker is told its receive timeout is unless the run has one.
constexpr std::chrono::seconds kWorkerStartTimeout{10};
constexpr std::chrono::milliseconds kWorkerDefaultTimeout{2000};

// Writes every device's image of `file` into `dir`, each followed by its
// tag under `key` if there is one; returns their paths.
std::vector<std::string> write_device_images(const plan::PlanFile& file, const std::string& dir,
                                             int generation, const std::optional<ClusterKey>& key) {
  std::vector<std::string> paths;
  for (int i = 0; i < file.plan.device_count(); ++i) {
    const std::vector<uint8_t> image = key ? tagged_image(write_participant_image(file, i), *key)
                                           : write_participant_image(file, i);
    paths.push_back(dir + "/plan" + std::to_string(generation) + "-device" + std::to_string(i) +
                    ".img");
    model::write_file_atomically(paths.back(), std::string(image.begin(), image.end()),
                                 "device image ");
  }
  return paths;
}

// The last non-empty line of `text`.
std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// Per device, the firmware of the board the plan puts it on ("": the run's
// firmware, for a device without a board).
std::vector<std::string> device_firmware(const plan::PlanFile& file, const RunRequest& request,
                                         bool ethernet) {
  std::vector<std::string> firmware;
  for (const plan::DeviceSpec& d : file.plan.cluster.devices) {
    if (d.board.empty()) {
      firmware.emplace_back();
      continue;
    }
    if (request.firmware_root.empty()) {
      throw Error("device '" + d.name + "' is planned onto board '" + d.board +
                  "', but this mcusplit was built without the boards' firmware");
    }
    firmware.push_back(board_firmware(request.firmware_root, d.board, ethernet));
  }
  return firmware;
}

// A board's firmware must hold the arena planned for its device: refused
// before any QEMU boots, naming the device, its board and both figures. (A
// firmware given without a board refuses a plan it cannot hold itself, at
// boot.)
void require_room(const plan::PlanFile& file, const QemuOptions& q) {
  for (size_t i = 0; i < q.device_firmware.size(); ++i) {
    if (q.device_firmware[i].empty()) continue;
    const plan::ParticipantPlan& p = file.plan.participants[i];
    const FirmwareLayout layout = read_firmware_layout(q.device_firmware[i]);
    if (layout.arena_bytes >= 0 && p.arena_bytes > layout.arena_bytes) {
      throw Error("device '" + p.name + "' needs an arena of " + std::to_string(p.arena_bytes) +
                  " bytes (" + std::to_string(p.peak_ram_bytes()) +
                  " of RAM with the runtime's share), but its board " + layout.board + " (" +
                  layout.machine + ") has " + std::to_string(layout.ram_bytes) +
                  " bytes of RAM, an arena of " + std::to_string(layout.arena_bytes));
    }
  }
}

}  // namespace

RunDevices::RunDevices(const RunRequest& request, const plan::PlanFile& file,
                       std::chrono::milliseconds receive_timeout,
                       const std::optional<ClusterKey>& key)
    : request_(request), receive_timeout_(receive_timeout), key_(key) {
  if (request.targets == RunTargets::Qemu) {
    start_qemu(file);
  } else if (request.workers.empty()) {
    start_local(file.plan.device_count());
  } else {
    addresses_ = request.workers;
  }
}

void RunDevices::start_local(int count) {
  local_.reset();
  const std::chrono::milliseconds timeout = request_.timeout.value_or(kWorkerDefaultTimeout);
  std::vector<std::string> args{"--timeout", std::to_string(timeout.count())};
  if (!request_.key_file.empty()) {
    args.push_back("--key-file");
    args.push_back(request_.key_file);
  }
  local_.emplace(count, kWorkerStartTimeout, args);
  addresses_ = local_->addresses();
}

// One QEMU per device, its image loaded before reset, or none over the link:
// the coordinator then sends each its slice. On Ethernet, always over the
// link, and the coordinator talks to the devices through the bridge.
void RunDevices::start_qemu(const plan::PlanFile& file) {
  emulated_.reset();
  bridge_.reset();
  network_.reset();
  const int n = file.plan.device_count();
  QemuOptions q;
  q.firmware = request_.firmware;
  q.icount = request_.icount;
  const bool ethernet = request_.link == RunLink::Ethernet;
  q.device_firmware = device_firmware(file, request_, ethernet);
  require_room(file, q);
  if (ethernet) {
    network_.emplace(n, request_.shaping);
    EthernetBridgeOptions b;
    b.switch_path = network_->switch_path();
    for (int i = 0; i < n; ++i) {
      b.device_names.push_back(file.plan.participants[static_cast<size_t>(i)].name);
    }
    b.dead_after = receive_timeout_;
    bridge_.emplace(b);
    for (int i = 0; i < n; ++i) q.nics.push_back(network_->qemu_nic_args(i));
  }
  const bool loader = !ethernet && request_.delivery != ImageDelivery::Link;
  if (!images_dir_ && (key_ || loader)) images_dir_.emplace("mcusplit-qemu");
  for (int i = 0; key_ && i < n; ++i) {
    // Every device holds the key from reset, as a real one would from
    // manufacture, and random bytes of its own for this boot.
    q.key_slot_files.push_back(images_dir_->path() + "/key-slot-device" + std::to_string(i) +
                               ".bin");
    write_key_slot_file(q.key_slot_files.back(), *key_, random_u64());
  }
  std::vector<std::string> images(static_cast<size_t>(n));
  if (loader) {
    images = write_device_images(file, images_dir_->path(), generation_++, key_);
  }
  emulated_.emplace(images, q);
  addresses_ = ethernet ? bridge_->addresses() : emulated_->addresses();
}

void RunDevices::restart_without(const plan::PlanFile& file, int lost) {
  if (emulated_) {
    start_qemu(file);
  } else if (local_) {
    local_->kill_all();
    start_local(file.plan.device_count());
  } else {
    addresses_.erase(addresses_.begin() + lost);
  }
}

std::string RunDevices::failure_notes(const plan::PlanFile& file, const std::string& message) {
  std::string said;
  if (!emulated_) return said;
  const std::vector<int> status = emulated_->wait_all(std::chrono::seconds(3));
  for (size_t i = 0; i < status.size(); ++i) {
    if (status[i] <= 0) continue;
    const std::string line = last_line(emulated_->output(i));
    if (!line.empty() && message.find(line) != std::string::npos) continue;
    said += "; device '" + file.plan.participants[i].name + "' (QEMU) exited with status " +
            std::to_string(status[i]) + (line.empty() ? "" : ": " + line);
  }
  return said;
}

void RunDevices::require_clean_shutdown(const plan::PlanFile& file,
                                        std::chrono::milliseconds receive_timeout) {
  if (local_ && !local_->wait_all(std::chrono::seconds(2))) {
    throw Error("a worker did not shut down cleanly after the run", kExitFailure);
  }
  if (!emulated_) return;
  // Every firmware exits through semihosting with 0 after the Stop.
  const std::vector<int> status = emulated_->wait_all(
      std::max<std::chrono::milliseconds>(receive_timeout, std::chrono::seconds(5)));
  // What each firmware printed (banner, its last words: uptime, stack
  // depth), kept on request.
  const char* keep = std::getenv("MCUSPLIT_QEMU_OUTPUT");
  if (keep != nullptr && *keep != '\0') {
    for (size_t i = 0; i < status.size(); ++i) {
      model::write_file_atomically(
          std::string(keep) + "/" + file.plan.participants[i].name + ".log", emulated_->output(i),
          "QEMU output ");
    }
  }
  for (size_t i = 0; i < status.size(); ++i) {
    if (status[i] == 0) continue;
    const std::string said = last_line(emulated_->output(i));
    throw Error("device '" + file.plan.participants[i].name + "' (QEMU) " +
                    (status[i] < 0 ? std::string("did not shut down after the run")
                                   : "exited with status " + std::to_string(status[i])) +
                    (said.empty() ? "" : ": " + said),
                kExitFailure);
  }
}

}  // namespace mcusplit::host
