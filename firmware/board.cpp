#include "board.h"

#include "device/image_auth.h"
#include "device/protocol.h"
#include "device/text.h"
#include "registers.h"

// Symbols of the linker script (mps2.ld.in).
extern "C" {
extern uint8_t __ram_start[];
extern uint8_t __ram_budget_bytes[];  // absolute: its address is the value
extern uint8_t __ram_used_end[];
extern uint8_t __key_slot[];
extern uint8_t __provision_start[];
extern uint8_t __provision_end[];
extern uint32_t __stack_bottom[];
extern uint32_t __stack_top[];
}

#ifndef MCUSPLIT_FW_RUNTIME_RAM_BYTES
#error "MCUSPLIT_FW_RUNTIME_RAM_BYTES comes from firmware/CMakeLists.txt"
#endif
static_assert(MCUSPLIT_FW_RUNTIME_RAM_BYTES == mcusplit::core::kDeviceRuntimeRamBytes,
              "firmware/CMakeLists.txt read another kDeviceRuntimeRamBytes than the compiler");

namespace mcusplit::fw {

// Filled into the unused stack at reset (startup.cpp) to measure its depth.
extern const uint32_t kStackPaint;
const uint32_t kStackPaint = 0x5AC3A55Au;

namespace {

// The arena, in its own input section so the linker script can KEEP it in
// .bss even when nothing references it.
alignas(16) __attribute__((section(".bss.mcusplit_arena"), used)) uint8_t g_arena[kArenaBytes];

uint32_t symbol_value(const void* symbol) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(symbol));
}

}  // namespace

MemoryRegion arena() {
  return {g_arena, kArenaBytes};
}

MemoryRegion provision_region() {
  return {__provision_start, symbol_value(__provision_end) - symbol_value(__provision_start)};
}

const uint8_t* cluster_key() {
  const uint8_t* slot = __key_slot;
  for (uint32_t i = 0; i < sizeof device::kKeySlotMagic; ++i) {
    if (slot[i] != static_cast<uint8_t>(device::kKeySlotMagic[i])) return nullptr;
  }
  return slot + sizeof device::kKeySlotMagic;
}

uint64_t boot_random() {
  const uint8_t* key = cluster_key();
  return key != nullptr ? device::load_le64(key + device::kClusterKeyBytes) : 0;
}

uint32_t ram_budget_bytes() {
  return symbol_value(__ram_budget_bytes);
}

uint32_t ram_static_bytes() {
  return symbol_value(__ram_used_end) - symbol_value(__ram_start);
}

uint32_t stack_bytes() {
  return symbol_value(__stack_top) - symbol_value(__stack_bottom);
}

uint32_t stack_high_water_bytes() {
  const volatile uint32_t* p = __stack_bottom;
  while (p < __stack_top && *p == kStackPaint) ++p;
  return symbol_value(__stack_top) - symbol_value(const_cast<const uint32_t*>(p));
}

CmsdkUart& board_init(uint32_t baud) {
  const uint32_t part = (reg(kScbCpuid) >> 4) & 0xFFFu;
  if (part != board::kCpuidPart) {
    mcusplit::device::Text<120> t;
    t.add("this firmware is for ").add(board::kQemuMachine).add(" (").add(board::kCpu);
    t.add("), not a core with CPUID part 0x").hex(part, 3);
    fail(t.c_str());
  }
  clock_init();
  CmsdkUart& uart = uart0();
  if (!uart.init(baud)) fail("UART0: baud rate out of range");
  return uart;
}

void fail(const char* message, int code) {
  mcusplit::device::Text<160> t;
  t.add("mcusplit-fw: ").add(message).add("\n");
  semihosting::write0(t.c_str());
  semihosting::exit(code);
}

}  // namespace mcusplit::fw
