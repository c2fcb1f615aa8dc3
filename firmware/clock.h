// Time for the firmware: a free-running 32-bit counter at the board's SYSCLK
// (timer 1 of the CMSDK dual timer; 25 MHz on the mps2 boards, 20 MHz on the
// AN505: fw_board.h), extended to 64 bits, and a 1 kHz SysTick interrupt that
// keeps the extension up to date (the counter wraps every 171 s at 25 MHz)
// and wakes the core from WFI, so waits with a
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

#include "fw_board.h"

namespace mcusplit::fw {

inline constexpr uint32_t kCoreClockHz = board::kClockHz;  // SYSCLK: CPU, APB and timers
static_assert(kCoreClockHz % 1'000'000 == 0, "micros() counts whole ticks per microsecond");
inline constexpr uint32_t kForever = 0xFFFFFFFFu;     // a timeout that never expires

// Starts the counter and SysTick (idempotent). Time starts at 0.
void clock_init();
bool clock_running();

// Since clock_init, in SYSCLK ticks (40 ns at 25 MHz), microseconds and
// milliseconds.
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

// Waits up to `timeout_ms` (0: just look; kForever: no limit) until
// `ready()` holds, the core asleep (WFI) between looks, woken by any enabled
// interrupt (a peripheral's receive interrupt, the next SysTick tick), so
// that a waiting device costs QEMU little host CPU. With interrupts masked
// between the look and the WFI, an interrupt that comes in between stays
// pending and ends the WFI. A caller that had interrupts masked keeps them
// masked (its timeouts then never expire: no tick counts).
template <class Ready>
bool sleep_until(Ready ready, uint32_t timeout_ms) {
  if (ready()) return true;
  if (timeout_ms == 0) return false;
  const Deadline deadline(timeout_ms);
  uint32_t primask = 0;
  asm volatile("mrs %0, primask" : "=r"(primask));
  for (;;) {
    asm volatile("cpsid i" ::: "memory");
    if (!ready()) asm volatile("dsb\n\twfi" ::: "memory");
    if (primask == 0) asm volatile("cpsie i" ::: "memory");
    if (ready()) return true;
    if (deadline.expired()) return false;
  }
}

}  // namespace mcusplit::fw
