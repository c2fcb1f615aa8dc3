// Time for the firmware: a free-running 32-bit counter at the 25 MHz APB
// clock (timer 1 of the CMSDK dual timer at 0x40002000), extended to 64 bits,
// and a 1 kHz SysTick interrupt that keeps the extension up to date (the
// counter wraps every 171 s) and wakes the core from WFI, so waits with a
// timeout (CmsdkUart::read_byte) notice their deadline.
//
// Under QEMU both timers run on the virtual clock, which without -icount
// follows host time, so these are wall-clock figures there. Time is read from
// the counter rather than by counting SysTick interrupts: on a loaded host
// QEMU delivers ticks late and a tick count falls behind (measured: 14% on
// this project's 2-core build machine). The DWT cycle counter is not used:
// QEMU does not model it.
#pragma once

#include <cstdint>

namespace mcusplit::fw {

inline constexpr uint32_t kCoreClockHz = 25'000'000;  // mps2 SYSCLK: CPU, APB and timers
inline constexpr uint32_t kForever = 0xFFFFFFFFu;     // a timeout that never expires

// Starts the counter and SysTick (idempotent). Time starts at 0.
void clock_init();
bool clock_running();

// Since clock_init, in 25 MHz ticks (40 ns), microseconds and milliseconds.
// 0 before clock_init.
uint64_t clock_ticks();
uint64_t micros();
uint32_t millis();  // wraps after 49 days

// Masks interrupts (PRIMASK); returns the previous mask for
// restore_interrupts, so that the pair nests.
uint32_t mask_interrupts();
void restore_interrupts(uint32_t primask);

// Busy-waits (sleeping between SysTick interrupts) at least `ms` milliseconds.
void delay_ms(uint32_t ms);

// A deadline `timeout_ms` from now (kForever: none).
class Deadline {
 public:
  explicit Deadline(uint32_t timeout_ms) : start_(millis()), timeout_(timeout_ms) {}
  bool expired() const { return timeout_ != kForever && millis() - start_ >= timeout_; }

 private:
  uint32_t start_;
  uint32_t timeout_;
};

}  // namespace mcusplit::fw
