// Board support for mcusplit firmware on QEMU's mps2 boards (fw_board.h, from
// firmware/boards/<board>.cmake): the memory the linker script lays out (RAM budget,
// static arena, stack, provisioning region), start-up, exit codes and failure
// reports. The pieces: startup.cpp (vector table, reset, faults),
// uart_cmsdk.h (UART0), clock.h (SysTick milliseconds), semihosting.h (exit
// codes, debug text). docs/firmware.md has the memory map.
#pragma once

#include <cstddef>
#include <cstdint>

#include "clock.h"
#include "core/device_runtime_ram.h"
#include "semihosting.h"
#include "uart_cmsdk.h"

#ifndef MCUSPLIT_FW_RAM_BYTES
#error "MCUSPLIT_FW_RAM_BYTES comes from firmware/CMakeLists.txt"
#endif

namespace mcusplit::fw {

// The device's RAM (the RAM region of the linker script) and the static
// arena: what is left of it after the runtime's own share, the figure the
// planner charges every device (core/device_runtime_ram.h). If the
// firmware's RAM outside the arena grows past that share, the link fails.
inline constexpr uint32_t kRamBytes = MCUSPLIT_FW_RAM_BYTES;
static_assert(kRamBytes > core::kDeviceRuntimeRamBytes,
              "MCUSPLIT_FW_RAM_BYTES leaves no arena beside kDeviceRuntimeRamBytes");
inline constexpr uint32_t kArenaBytes =
    kRamBytes - static_cast<uint32_t>(core::kDeviceRuntimeRamBytes);
static_assert(kArenaBytes % 16 == 0, "the RAM outside the arena is the same at every RAM size");
inline constexpr uint32_t kDefaultBaud = 115200;

// QEMU's exit status, through semihosting. If main returns, its return
// value is the exit status.
enum ExitCode : int {
  kExitOk = 0,     // a clean stop (Stop frame)
  kExitError = 1,  // the firmware gave up (fail())
  kExitFault = 3,  // a CPU fault, an unexpected interrupt, a pure virtual call
};

struct MemoryRegion {
  uint8_t* data = nullptr;
  uint32_t bytes = 0;
};

// The static arena for the device runtime: kArenaBytes in .bss, 16-byte
// aligned, zeroed at reset. It always counts against the RAM budget.
MemoryRegion arena();
// Where a device image lives (flash-like memory, the top of SSRAM1): written
// by the firmware as it is provisioned over the link, or loaded by QEMU before
// reset (-device loader,file=IMAGE,addr=...). Start-up never touches it.
MemoryRegion provision_region();

// The key in the cluster key's slot (mps2.ld.in, KEY; its layout is
// device::kKeySlotMagic's), which the host writes before reset (QemuDevices,
// from `run --key-file`; a real MCU would hold it in flash or fuses from
// manufacture) (device::kClusterKeyBytes), or null: no key, so
// tagged images are refused and untagged ones taken (device/image_auth.h).
const uint8_t* cluster_key();
// The slot's random bytes of this boot (0 without a key).
uint64_t boot_random();

// LENGTH(RAM) in the linker script: the build option MCUSPLIT_FW_RAM_BYTES.
uint32_t ram_budget_bytes();
// RAM the image uses statically: stack + .data + .bss (arena included); for
// the device firmware exactly kArenaBytes + core::kDeviceRuntimeRamBytes.
uint32_t ram_static_bytes();
uint32_t stack_bytes();
// The deepest the stack has been since reset (it is painted at reset).
uint32_t stack_high_water_bytes();

// Checks that the core is the board's (CPUID), starts the millisecond clock
// and UART0 at `baud`; returns UART0. Fails (exit code kExitError) on another
// core or if the baud rate cannot be programmed.
CmsdkUart& board_init(uint32_t baud = kDefaultBaud);

// Writes "mcusplit-fw: MESSAGE" through semihosting and exits with `code`.
[[noreturn]] void fail(const char* message, int code = kExitError);

}  // namespace mcusplit::fw
