#include "host/qemu_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <string_view>
#include <thread>

#include "common/error.h"
#include "device/image_auth.h"
#include "device/protocol.h"
#include "host/child_process.h"

namespace mcusplit::host {
namespace {

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// A value inside a QEMU option list (-device loader,file=...): commas doubled.
std::string qemu_option_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::string hex(uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

}  // namespace

std::string default_qemu() {
  const char* env = std::getenv("MCUSPLIT_QEMU");
  return env != nullptr && *env != '\0' ? env : "qemu-system-arm";
}

std::vector<std::string> qemu_command(const std::string& qemu, const std::string& firmware,
                                      QemuSerial serial, const std::string& machine) {
  return {qemu,
          "-M",
          machine,
          "-nographic",
          "-monitor",
          "none",
          "-semihosting-config",
          "enable=on,target=native",
          "-serial",
          serial == QemuSerial::TcpServer ? "tcp:127.0.0.1:0,server=on,wait=on" : "null",
          "-kernel",
          firmware};
}

std::string ethernet_firmware(const std::string& uart_firmware) {
  constexpr std::string_view kUartName = "mcusplit_fw_device";
  const size_t slash = uart_firmware.rfind('/');
  const size_t name = slash == std::string::npos ? 0 : slash + 1;
  const size_t after = name + kUartName.size();
  // The UART build's name, then ".elf" or a RAM suffix ("_64k.elf").
  if (uart_firmware.compare(name, kUartName.size(), kUartName) != 0 ||
      after >= uart_firmware.size() ||
      (uart_firmware[after] != '.' && uart_firmware[after] != '_') ||
      uart_firmware.compare(after, 4, "_eth") == 0) {
    return uart_firmware;
  }
  return uart_firmware.substr(0, after) + "_eth" + uart_firmware.substr(after);
}

FirmwareLayout read_firmware_layout(const std::string& firmware_elf) {
  FirmwareLayout layout;
  std::ifstream in(directory_of(firmware_elf) + "/firmware_layout.env");
  if (!in) return layout;
  layout.from_file = true;
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    if (key == "BOARD" && !value.empty()) layout.board = value;
    if (key == "QEMU_MACHINE" && !value.empty()) layout.machine = value;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(value.c_str(), &end, 0);
    if (end == value.c_str()) continue;
    if (key == "PROVISION_ADDRESS") layout.provision_address = static_cast<uint32_t>(v);
    if (key == "PROVISION_BYTES") layout.provision_bytes = static_cast<uint32_t>(v);
    if (key == "KEY_ADDRESS") layout.key_address = static_cast<uint32_t>(v);
    if (key == "ARENA_BYTES") layout.arena_bytes = static_cast<int64_t>(v);
    if (key == "RAM_BYTES") layout.ram_bytes = static_cast<int64_t>(v);
    if (key == "CLOCK_HZ" && v > 0) layout.clock_hz = static_cast<double>(v);
  }
  return layout;
}

QemuDevices::QemuDevices(const std::vector<std::string>& images, const QemuOptions& options)
    : options_(options) {
  const std::string qemu = options.qemu.empty() ? default_qemu() : options.qemu;
  const std::string qemu_path = find_program(qemu);
  if (qemu_path.empty()) {
    throw Error("the emulator '" + qemu + "' was not found (apt-get install qemu-system-arm)",
                kExitFailure);
  }
  for (size_t i = 0; i < images.size(); ++i) {
    const bool own = i < options.device_firmware.size() && !options.device_firmware[i].empty();
    firmware_.push_back(own ? options.device_firmware[i] : options.firmware);
    if (firmware_.back().empty() || file_size(firmware_.back()) <= 0) {
      throw Error("the device firmware '" + firmware_.back() +
                  "' does not exist (build mcusplit with arm-none-eabi-g++ installed, or give "
                  "--firmware ELF)");
    }
    layouts_.push_back(read_firmware_layout(firmware_.back()));
  }
  if (!options.nics.empty() && options.nics.size() != images.size()) {
    throw Error("QEMU was given " + std::to_string(options.nics.size()) + " NICs for " +
                    std::to_string(images.size()) + " devices",
                kExitFailure);
  }
  for (size_t i = 0; i < options.key_slot_files.size() && i < images.size(); ++i) {
    if (!options.key_slot_files[i].empty() && layouts_[i].key_address == 0) {
      throw Error("the device firmware '" + firmware_[i] +
                      "' has no cluster key slot (KEY_ADDRESS in its firmware_layout.env): "
                      "rebuild it to run with --key-file",
                  kExitFailure);
    }
  }
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].empty()) continue;  // provisioned over the link
    const int64_t bytes = file_size(images[i]);
    if (bytes < 0) throw Error("cannot read the device image '" + images[i] + "'", kExitFailure);
    if (bytes > static_cast<int64_t>(layouts_[i].provision_bytes)) {
      throw Error("device " + std::to_string(i) + "'s image is " + std::to_string(bytes) +
                      " bytes but the firmware's provisioning region holds " +
                      std::to_string(layouts_[i].provision_bytes) +
                      " (build the firmware with a larger MCUSPLIT_FW_PROVISION_BYTES)",
                  kExitFailure);
    }
  }
  try {
    // Every QEMU first, then their ports: they start up in parallel.
    for (size_t i = 0; i < images.size(); ++i) start(i, images[i], qemu_path);
    // On Ethernet nothing is announced: the machines run already.
    if (!options.nics.empty()) return;
    const Clock::time_point deadline = Clock::now() + options.start_timeout;
    const std::regex announce("waiting for connection on: [a-z]*:?tcp:([0-9.]+):([0-9]+),server");
    for (size_t i = 0; i < devices_.size(); ++i) {
      Device& d = devices_[i];
      std::smatch m;
      while (!std::regex_search(d.output, m, announce)) {
        const size_t before = d.output.size();
        drain(d, deadline);
        if (d.output.size() == before) {
          reap(d, true);
          throw Error("QEMU for device " + std::to_string(i) + " did not start within " +
                          std::to_string(options.start_timeout.count()) + " ms" +
                          (d.output.empty() ? "" : ": " + d.output),
                      kExitFailure);
        }
      }
      addresses_.push_back(
          parse_address(m[1].str() + ":" + m[2].str(), "QEMU serial address", false));
      // The announcement is QEMU's, not the firmware's.
      d.output.erase(0, static_cast<size_t>(m.position(0) + m.length(0)));
      const size_t eol = d.output.find('\n');
      d.output.erase(0, eol == std::string::npos ? d.output.size() : eol + 1);
    }
  } catch (...) {
    kill_all();
    throw;
  }
}

QemuDevices::~QemuDevices() {
  kill_all();
}

void write_key_slot_file(const std::string& path, const ClusterKey& key, uint64_t boot_random) {
  std::vector<uint8_t> slot(device::kKeySlotMagic,
                            device::kKeySlotMagic + sizeof device::kKeySlotMagic);
  slot.insert(slot.end(), key.begin(), key.end());
  slot.resize(device::kKeySlotBytes);
  device::store_le64(slot.data() + sizeof device::kKeySlotMagic + key.size(), boot_random);
  // 0600 from the start: the key is never readable by others, even briefly.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const bool ok = fd >= 0 && ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, slot.data(), slot.size()) == static_cast<ssize_t>(slot.size());
  const std::string why = std::strerror(errno);
  if (fd >= 0) ::close(fd);
  if (!ok) throw Error("cannot write the devices' key slot '" + path + "': " + why, kExitFailure);
}

void QemuDevices::start(size_t device, const std::string& image, const std::string& qemu) {
  const bool ethernet = !options_.nics.empty();
  std::vector<std::string> args =
      qemu_command(qemu, firmware_[device], ethernet ? QemuSerial::None : QemuSerial::TcpServer,
                   layouts_[device].machine);
  if (ethernet) args.insert(args.end(), options_.nics[device].begin(), options_.nics[device].end());
  if (!image.empty()) {
    args.push_back("-device");
    args.push_back("loader,file=" + qemu_option_value(image) +
                   ",addr=" + hex(layouts_[device].provision_address));
  }
  if (device < options_.key_slot_files.size() && !options_.key_slot_files[device].empty()) {
    args.push_back("-device");
    args.push_back("loader,file=" + qemu_option_value(options_.key_slot_files[device]) +
                   ",addr=" + hex(layouts_[device].key_address) + ",force-raw=on");
  }
  if (options_.icount) {
    args.push_back("-icount");
    args.push_back("shift=" + std::to_string(kIcountShift));
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  // QEMU prints its serial port and the firmware's semihosting text on
  // stdout and stderr alike: both go to the pipe.
  const Child child = spawn_child(qemu, std::move(args), true, "QEMU");
  Device d;
  d.pid = child.pid;
  d.output_fd = child.output_fd;
  devices_.push_back(std::move(d));
}

void QemuDevices::drain(Device& d, Clock::time_point deadline) {
  while (d.output_fd >= 0) {
    pollfd p{d.output_fd, POLLIN, 0};
    const int r = ::poll(&p, 1, ms_until(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    char buffer[4096];
    const ssize_t n = ::read(d.output_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(d.output_fd);
      d.output_fd = -1;
      return;
    }
    d.output.append(buffer, static_cast<size_t>(n));
    // Whatever there is now, without waiting for more.
    deadline = Clock::now();
  }
}

void QemuDevices::reap(Device& d, bool kill_it) {
  if (d.pid > 0) {
    if (kill_it) ::kill(d.pid, SIGKILL);
    int status = 0;
    pid_t r = 0;
    while ((r = ::waitpid(d.pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r == d.pid && !kill_it) d.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    d.pid = -1;
  }
  drain(d, Clock::now());
  if (d.output_fd >= 0) {
    ::close(d.output_fd);
    d.output_fd = -1;
  }
}

std::vector<int> QemuDevices::wait_all(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (Device& d : devices_) {
    while (d.pid > 0) {
      int status = 0;
      const pid_t r = ::waitpid(d.pid, &status, WNOHANG);
      if (r == d.pid) {
        d.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        d.pid = -1;
        break;
      }
      if (r < 0 && errno != EINTR) {
        d.pid = -1;
        break;
      }
      if (Clock::now() >= deadline) break;
      // Keep its output flowing (a full pipe would stop it) while waiting.
      drain(d, std::min(deadline, Clock::now() + std::chrono::milliseconds(10)));
    }
  }
  kill_all();
  std::vector<int> statuses;
  for (const Device& d : devices_) statuses.push_back(d.status);
  return statuses;
}

void QemuDevices::kill_all() {
  for (Device& d : devices_) reap(d, true);
}

std::string QemuDevices::output(size_t i) {
  Device& d = devices_[i];
  drain(d, Clock::now());
  return d.output;
}

}  // namespace mcusplit::host
