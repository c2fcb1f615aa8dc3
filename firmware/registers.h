// Memory-mapped registers of the Cortex-M core (System Control Space, the
// same on the M3, M4, M7 and M33) that the board support uses, and a volatile
// accessor.
#pragma once

#include <cstdint>

#include "fw_board.h"

namespace mcusplit::fw {

inline volatile uint32_t& reg(uintptr_t address) {
  return *reinterpret_cast<volatile uint32_t*>(address);
}

// SysTick.
inline constexpr uintptr_t kSysTickCtrl = 0xE000E010;
inline constexpr uintptr_t kSysTickReload = 0xE000E014;
inline constexpr uintptr_t kSysTickCurrent = 0xE000E018;
inline constexpr uint32_t kSysTickEnable = 1u << 0;
inline constexpr uint32_t kSysTickInterrupt = 1u << 1;
inline constexpr uint32_t kSysTickCoreClock = 1u << 2;  // else the external reference clock

// The board's CMSDK APB dual timer.
inline constexpr uintptr_t kDualTimerBase = board::kDualTimerBase;

// NVIC: interrupt set-enable registers, 32 interrupts each.
inline constexpr uintptr_t kNvicIser0 = 0xE000E100;

// System Control Block.
inline constexpr uintptr_t kScbCpuid = 0xE000ED00;  // PARTNO in bits 15:4
inline constexpr uintptr_t kScbIcsr = 0xE000ED04;   // interrupt control and state
inline constexpr uintptr_t kScbShcsr = 0xE000ED24;  // system handler control and state
inline constexpr uintptr_t kScbCfsr = 0xE000ED28;   // configurable fault status
inline constexpr uintptr_t kScbHfsr = 0xE000ED2C;   // hard fault status
inline constexpr uintptr_t kScbMmfar = 0xE000ED34;  // memory manage fault address
inline constexpr uintptr_t kScbBfar = 0xE000ED38;   // bus fault address
inline constexpr uintptr_t kScbCpacr = 0xE000ED88;  // coprocessor access control
// SHCSR: enable the MemManage, BusFault and UsageFault handlers, so a fault
// is reported as itself rather than escalated to HardFault.
inline constexpr uint32_t kShcsrFaultEnables = (1u << 16) | (1u << 17) | (1u << 18);

}  // namespace mcusplit::fw
