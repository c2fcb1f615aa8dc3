// Arm semihosting (the "Semihosting for AArch32 and AArch64" specification):
// requests to the debugger or emulator through `bkpt 0xAB` on M-profile cores.
// QEMU serves them with -semihosting-config enable=on,target=native; without
// it the breakpoint is a fault. Used for exit codes and debug text only: the
// protocol traffic goes over the UART.
#pragma once

#include <cstdint>

namespace mcusplit::fw::semihosting {

// Operation numbers (r0).
inline constexpr uint32_t kSysWrite0 = 0x04;        // r1: NUL-terminated text
inline constexpr uint32_t kSysClock = 0x10;         // centiseconds since the program started
inline constexpr uint32_t kSysExit = 0x18;          // angel_SWIreason_ReportException
inline constexpr uint32_t kSysExitExtended = 0x20;  // r1: {reason, exit code}
// Reasons of SYS_EXIT.
inline constexpr uint32_t kAdpStoppedApplicationExit = 0x20026;
inline constexpr uint32_t kAdpStoppedRunTimeErrorUnknown = 0x20023;

// One request: r0 = op, r1 = arg; returns r0.
uint32_t call(uint32_t op, uintptr_t arg);

// Debug text on the emulator's console (QEMU: its stderr by default).
void write0(const char* text);

// Centiseconds of host time since the program started (SYS_CLOCK), or -1.
int32_t clock_centiseconds();

// Ends the emulation with `code` as QEMU's exit status: SYS_EXIT_EXTENDED
// (ADP_Stopped_ApplicationExit, code); should that be refused, SYS_EXIT, which
// can only say success (code 0) or failure (status 1).
[[noreturn]] void exit(int code);

}  // namespace mcusplit::fw::semihosting
