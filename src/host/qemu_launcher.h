// Boots emulated microcontrollers for `mcusplit run --targets qemu`: one
// qemu-system-arm per device, on the machine its firmware was built for
// (firmware_layout.env: mps2-an500, a Cortex-M7, unless it says another
// board), running the device firmware (firmware/device_main.cpp) with that
// device's image loaded
// into the provisioning region before reset (-device loader), its UART0 a TCP
// socket on loopback that QEMU listens on (port 0: QEMU prints the port it
// got, read from its stderr) and semihosting for the firmware's exit code.
// On Ethernet (`--link ethernet`) each device's LAN9118 instead plugs into
// the run's switch (host/ethernet_network.h) and UART0 goes nowhere.
// Like LocalWorkers, the children die with this process (PR_SET_PDEATHSIG)
// and the destructor kills and reaps any still running: no run leaves an
// orphan QEMU behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "host/cluster_key.h"
#include "host/socket_io.h"

namespace mcusplit::host {

// Where an emulated device's UART0 goes: a TCP server on a free loopback
// port that QEMU announces ("waiting for connection on: ...") and waits on
// before it starts the machine, or nowhere (-serial null: devices on
// Ethernet, which start at once).
enum class QemuSerial { TcpServer, None };

// The emulator: $MCUSPLIT_QEMU, or qemu-system-arm.
std::string default_qemu();

// The command line (args[0] = `qemu`) that boots `firmware` on QEMU's
// `machine` (the firmware's board, FirmwareLayout::machine): no display or
// monitor, semihosting on, UART0 as `serial` says. Callers append their
// options.
std::vector<std::string> qemu_command(const std::string& qemu, const std::string& firmware,
                                      QemuSerial serial = QemuSerial::TcpServer,
                                      const std::string& machine = "mps2-an500");

// The Ethernet build of the device firmware that lies beside a UART one
// (firmware/CMakeLists.txt): mcusplit_fw_device.elf ->
// mcusplit_fw_device_eth.elf, ram-64k/mcusplit_fw_device_64k.elf ->
// ram-64k/mcusplit_fw_device_eth_64k.elf; any other path as it is.
std::string ethernet_firmware(const std::string& uart_firmware);

// The firmware build's layout (firmware_layout.env, written next to the ELF
// by firmware/CMakeLists.txt); the defaults when there is none.
struct FirmwareLayout {
  std::string board = "an500";         // BOARD
  std::string machine = "mps2-an500";  // QEMU_MACHINE: what -M boots
  double clock_hz = 25e6;              // CLOCK_HZ: what the firmware's clock counts
  uint32_t provision_address = 0x00200000;
  uint32_t provision_bytes = 2u << 20;
  uint32_t key_address = 0;  // KEY_ADDRESS: the cluster key's slot; 0: the firmware has none
  int64_t arena_bytes = -1;  // -1: unknown
  int64_t ram_bytes = -1;
  bool from_file = false;
};

// Reads the firmware_layout.env beside `firmware_elf`, if there is one.
FirmwareLayout read_firmware_layout(const std::string& firmware_elf);

// `-icount shift=7`: QEMU's virtual clock then advances 2^7 = 128 ns per guest
// instruction, so the firmware's 25 MHz clock (40 ns ticks) counts
// instructions: an op's ticks give its instructions exactly (an error of one
// tick is under half an instruction), and more shift would only make the
// 1 kHz SysTick fire every fewer instructions.
inline constexpr int kIcountShift = 7;

struct QemuOptions {
  std::string qemu;      // the emulator; "" = $MCUSPLIT_QEMU or qemu-system-arm
  std::string firmware;  // the device firmware ELF
  // Per device, its own firmware (a board of its own); "" or none: `firmware`.
  std::vector<std::string> device_firmware;
  std::chrono::milliseconds start_timeout{20000};
  bool icount = false;  // -icount shift=kIcountShift (deterministic instruction counts)
  std::vector<std::string> extra_args;  // appended to every command line
  // Devices on Ethernet: per device, its NIC's options
  // (EthernetNetwork::qemu_nic_args); UART0 then goes nowhere and no port is
  // announced. Empty: every device on its UART.
  std::vector<std::vector<std::string>> nics;
  // Per device, a file of its cluster key slot (write_key_slot_file),
  // loaded into its slot before reset; none or "": the device has no key.
  std::vector<std::string> key_slot_files;
};

// Writes a firmware's key slot (device::kKeySlotMagic, `key`, then
// `boot_random`) to `path`, mode 0600. Throws mcusplit::Error on failure.
void write_key_slot_file(const std::string& path, const ClusterKey& key, uint64_t boot_random);

class QemuDevices {
 public:
  // Boots one QEMU per image file (device i gets images[i]; "": none, its
  // provisioning region starts empty and the coordinator provisions it over
  // the link). Throws
  // mcusplit::Error (exit code 1) if the emulator or the firmware is
  // missing, an image does not fit the provisioning region, or a QEMU does
  // not announce its port within start_timeout (UART only); the ones
  // already started are killed.
  QemuDevices(const std::vector<std::string>& images, const QemuOptions& options);
  ~QemuDevices();
  QemuDevices(const QemuDevices&) = delete;
  QemuDevices& operator=(const QemuDevices&) = delete;

  // Where each device's UART0 listens (QEMU starts the machine when the
  // coordinator connects); none on Ethernet.
  const std::vector<SocketAddress>& addresses() const { return addresses_; }
  size_t size() const { return devices_.size(); }
  pid_t pid(size_t i) const { return devices_[i].pid; }
  // Device i's firmware's layout.
  const FirmwareLayout& layout(size_t i) const { return layouts_[i]; }

  // Waits up to `timeout` for every QEMU to exit by itself, then kills the
  // rest. Per device: QEMU's exit status (the firmware's semihosting exit
  // code), or -1 if it had to be killed or died of a signal.
  std::vector<int> wait_all(std::chrono::milliseconds timeout);
  void kill_all();

  // What QEMU has printed so far (the firmware's semihosting text, QEMU's
  // own messages), without the port announcement.
  std::string output(size_t i);

 private:
  struct Device {
    pid_t pid = -1;  // -1 once reaped
    int output_fd = -1;
    std::string output;
    int status = -1;
  };
  void start(size_t device, const std::string& image, const std::string& qemu);
  void drain(Device& d, Clock::time_point deadline);
  void reap(Device& d, bool kill_it);

  std::vector<std::string> firmware_;  // per device
  std::vector<FirmwareLayout> layouts_;
  QemuOptions options_;
  std::vector<Device> devices_;
  std::vector<SocketAddress> addresses_;
};

}  // namespace mcusplit::host
