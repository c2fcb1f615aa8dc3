#include "clock.h"

#include "registers.h"

namespace mcusplit::fw {
namespace {

// CMSDK dual timer, timer 1.
constexpr uintptr_t kTimerLoad = kDualTimerBase + 0x00;
constexpr uintptr_t kTimerValue = kDualTimerBase + 0x04;
constexpr uintptr_t kTimerControl = kDualTimerBase + 0x08;
constexpr uint32_t kControl32Bit = 1u << 1;
constexpr uint32_t kControlEnable = 1u << 7;
// Free-running (MODE 0), no prescaler, no interrupt: counts down from
// 0xFFFFFFFF and wraps.
constexpr uint32_t kControlFreeRunning = kControl32Bit | kControlEnable;

constexpr uint32_t kTicksPerMs = kCoreClockHz / 1000;
constexpr uint32_t kTicksPerUs = kCoreClockHz / 1000000;

// The counter's value at the last update and the ticks counted up to then.
// Updated by the SysTick handler (every millisecond, well within a wrap) and
// read with interrupts masked.
volatile uint32_t g_last_value = 0;
volatile uint64_t g_ticks = 0;
volatile bool g_running = false;

uint64_t update_ticks() {
  const uint32_t now = reg(kTimerValue);
  const uint32_t elapsed = g_last_value - now;  // counts down, mod 2^32
  g_last_value = now;
  const uint64_t ticks = g_ticks + elapsed;
  g_ticks = ticks;
  return ticks;
}

}  // namespace

uint32_t mask_interrupts() {
  uint32_t primask = 0;
  asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
  return primask;
}

void restore_interrupts(uint32_t primask) {
  if (primask == 0) asm volatile("cpsie i" ::: "memory");
}

void clock_init() {
  if (g_running) return;
  reg(kTimerControl) = 0;
  reg(kTimerControl) = kControl32Bit;
  reg(kTimerLoad) = 0xFFFFFFFFu;  // in free-running mode: sets the count
  g_last_value = 0xFFFFFFFFu;
  g_ticks = 0;
  reg(kTimerControl) = kControlFreeRunning;

  reg(kSysTickReload) = kTicksPerMs - 1;
  reg(kSysTickCurrent) = 0;  // any write clears it
  reg(kSysTickCtrl) = kSysTickEnable | kSysTickInterrupt | kSysTickCoreClock;
  g_running = true;
}

bool clock_running() {
  return g_running;
}

uint64_t clock_ticks() {
  if (!g_running) return 0;
  const uint32_t primask = mask_interrupts();
  const uint64_t ticks = update_ticks();
  restore_interrupts(primask);
  return ticks;
}

uint64_t micros() {
  return clock_ticks() / kTicksPerUs;
}

uint32_t millis() {
  return static_cast<uint32_t>(clock_ticks() / kTicksPerMs);
}

void delay_ms(uint32_t ms) {
  const Deadline d(ms);
  while (!d.expired()) asm volatile("wfi");
}

}  // namespace mcusplit::fw

extern "C" void SysTick_Handler() {
  mcusplit::fw::update_ticks();
}
