#include "semihosting.h"

namespace mcusplit::fw::semihosting {

uint32_t call(uint32_t op, uintptr_t arg) {
  register uint32_t r0 asm("r0") = op;
  register uintptr_t r1 asm("r1") = arg;
  // The host may read and write memory r1 points to.
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void write0(const char* text) {
  call(kSysWrite0, reinterpret_cast<uintptr_t>(text));
}

int32_t clock_centiseconds() {
  return static_cast<int32_t>(call(kSysClock, 0));
}

void exit(int code) {
  const uint32_t block[2] = {kAdpStoppedApplicationExit, static_cast<uint32_t>(code)};
  call(kSysExitExtended, reinterpret_cast<uintptr_t>(block));
  call(kSysExit, code == 0 ? kAdpStoppedApplicationExit : kAdpStoppedRunTimeErrorUnknown);
  for (;;) asm volatile("wfi");
}

}  // namespace mcusplit::fw::semihosting
