// Start-up of mcusplit firmware on QEMU's mps2 boards: the vector table (at
// the origin of FLASH, where VTOR points at reset and the core reads the
// initial stack pointer and reset vector), the reset handler (FPU on where
// the core has one, stack painted, .data copied, .bss zeroed, static
// constructors, main), fault and unexpected-interrupt reports, and the few
// C++ runtime hooks a freestanding image needs.
#include <cstdint>

#include "board.h"
#include "fw_board.h"
#include "registers.h"
#include "semihosting.h"
#include "device/text.h"

extern "C" {
// Linker script symbols.
extern uint32_t __stack_top[];
extern uint32_t __stack_bottom[];
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern const uint32_t __data_load[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
using InitFunction = void (*)();
extern InitFunction __preinit_array_start[];
extern InitFunction __preinit_array_end[];
extern InitFunction __init_array_start[];
extern InitFunction __init_array_end[];

// The application's main (C++ may not call `main` by that name).
int mcusplit_fw_main() __asm__("main");

void Reset_Handler();
void HardFault_Handler();
void MemManage_Handler();
void BusFault_Handler();
void UsageFault_Handler();
[[noreturn]] void mcusplit_fw_start();
[[noreturn]] void mcusplit_fw_fault(const uint32_t* frame, uint32_t kind);
[[noreturn]] void mcusplit_fw_unexpected_interrupt();
void mcusplit_fw_default_handler();

// Every other handler defaults to the unexpected-interrupt report; a firmware
// overrides one by defining it (clock.cpp defines SysTick_Handler).
#define MCUSPLIT_FW_WEAK_HANDLER(name) \
  void name() __attribute__((weak, alias("mcusplit_fw_default_handler")))
MCUSPLIT_FW_WEAK_HANDLER(NMI_Handler);
MCUSPLIT_FW_WEAK_HANDLER(SVC_Handler);
MCUSPLIT_FW_WEAK_HANDLER(DebugMon_Handler);
MCUSPLIT_FW_WEAK_HANDLER(PendSV_Handler);
MCUSPLIT_FW_WEAK_HANDLER(SysTick_Handler);
// The board's interrupts this firmware serves (fw_board.h places them);
// every other one is reported as unexpected.
MCUSPLIT_FW_WEAK_HANDLER(UART0RX_IRQHandler);
MCUSPLIT_FW_WEAK_HANDLER(ETHERNET_IRQHandler);  // the LAN9118
MCUSPLIT_FW_WEAK_HANDLER(IRQ_Handler);          // any other
}

namespace {

using Handler = void (*)();
using mcusplit::fw::board::kExternalInterrupts;

struct VectorTable {
  void* initial_stack_pointer;
  Handler system[15];
  Handler external[kExternalInterrupts];
};

constexpr VectorTable make_vector_table() {
  VectorTable t{__stack_top,
                {
                    Reset_Handler,
                    NMI_Handler,
                    HardFault_Handler,
                    MemManage_Handler,
                    BusFault_Handler,
                    UsageFault_Handler,
                    nullptr,  // SecureFault on v8-M: not enabled, escalates to HardFault
                    nullptr,
                    nullptr,
                    nullptr,
                    SVC_Handler,
                    DebugMon_Handler,
                    nullptr,
                    PendSV_Handler,
                    SysTick_Handler,
                },
                {}};
  for (Handler& h : t.external) h = IRQ_Handler;
  t.external[mcusplit::fw::board::kUart0RxIrq] = UART0RX_IRQHandler;
  t.external[mcusplit::fw::board::kLan9118Irq] = ETHERNET_IRQHandler;
  return t;
}

}  // namespace

extern "C" __attribute__((section(".isr_vector"), used)) constexpr VectorTable
    mcusplit_fw_vectors = make_vector_table();

// Where the core has an FPU it must be on before any compiled code runs
// (with the hard-float ABI the compiler may use FPU registers anywhere), so
// this part is assembly: CPACR gives CP10 and CP11 full access, then the
// barriers make it take effect. A core without one (the AN385's Cortex-M3)
// has no CPACR to write.
extern "C" __attribute__((naked, noreturn)) void Reset_Handler() {
  asm volatile(
#if MCUSPLIT_FW_HAS_FPU
      "movw r0, #0xED88\n"
      "movt r0, #0xE000\n"
      "ldr r1, [r0]\n"
      "orr r1, r1, #(0xF << 20)\n"
      "str r1, [r0]\n"
      "dsb\n"
      "isb\n"
#endif
      "b mcusplit_fw_start\n");
}

namespace mcusplit::fw {
extern const uint32_t kStackPaint;
}

extern "C" void mcusplit_fw_start() {
  using namespace mcusplit::fw;
  reg(kScbShcsr) = reg(kScbShcsr) | kShcsrFaultEnables;

  // Paint the stack below the current frame, to measure its depth later.
  uint32_t* sp = nullptr;
  asm volatile("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t* p = __stack_bottom; p + 16 < sp; ++p) *p = kStackPaint;

  const uint32_t* from = __data_load;
  for (uint32_t* to = __data_start; to < __data_end;) *to++ = *from++;
  for (uint32_t* p = __bss_start; p < __bss_end;) *p++ = 0;

  for (InitFunction* f = __preinit_array_start; f < __preinit_array_end; ++f) (*f)();
  for (InitFunction* f = __init_array_start; f < __init_array_end; ++f) (*f)();

  semihosting::exit(mcusplit_fw_main());
}

namespace {

const char* fault_name(uint32_t kind) {
  switch (kind) {
    case 3:
      return "hard fault";
    case 4:
      return "memory management fault";
    case 5:
      return "bus fault";
    case 6:
      return "usage fault";
  }
  return "fault";
}

}  // namespace

// `frame`: the exception frame the core stacked (r0-r3, r12, lr, pc, xpsr).
extern "C" void mcusplit_fw_fault(const uint32_t* frame, uint32_t kind) {
  using namespace mcusplit::fw;
  mcusplit::device::Text<200> t;
  t.add("mcusplit-fw: ").add(fault_name(kind));
  t.add(" at pc=0x").hex(frame[6]).add(" lr=0x").hex(frame[5]);
  t.add(" cfsr=0x").hex(reg(kScbCfsr)).add(" hfsr=0x").hex(reg(kScbHfsr));
  t.add(" mmfar=0x").hex(reg(kScbMmfar)).add(" bfar=0x").hex(reg(kScbBfar)).add("\n");
  semihosting::write0(t.c_str());
  semihosting::exit(kExitFault);
}

// The fault handlers find the stacked frame (main or process stack, from
// EXC_RETURN in lr) and pass it on with the exception number.
#define MCUSPLIT_FW_FAULT_HANDLER(name, number)   \
  extern "C" __attribute__((naked)) void name() { \
    asm volatile(                                 \
        "tst lr, #4\n"                            \
        "ite eq\n"                                \
        "mrseq r0, msp\n"                         \
        "mrsne r0, psp\n"                         \
        "movs r1, #" #number                      \
        "\n"                                      \
        "b mcusplit_fw_fault\n");                 \
  }
MCUSPLIT_FW_FAULT_HANDLER(HardFault_Handler, 3)
MCUSPLIT_FW_FAULT_HANDLER(MemManage_Handler, 4)
MCUSPLIT_FW_FAULT_HANDLER(BusFault_Handler, 5)
MCUSPLIT_FW_FAULT_HANDLER(UsageFault_Handler, 6)

extern "C" void mcusplit_fw_unexpected_interrupt() {
  using namespace mcusplit::fw;
  uint32_t ipsr = 0;
  asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  mcusplit::device::Text<80> t;
  t.add("mcusplit-fw: unexpected exception ").dec(ipsr & 0x1ff).add("\n");
  semihosting::write0(t.c_str());
  semihosting::exit(kExitFault);
}

// The target of the weak handler aliases (an alias may not add noreturn).
extern "C" void mcusplit_fw_default_handler() {
  mcusplit_fw_unexpected_interrupt();
}

// C++ runtime hooks. A pure virtual call is a bug; static destructors never
// run (the firmware ends through semihosting, not by returning), so their
// registration is a no-op and needs no table.
extern "C" void __cxa_pure_virtual() {
  mcusplit::fw::fail("pure virtual function called", mcusplit::fw::kExitFault);
}
extern "C" int __aeabi_atexit(void*, void (*)(void*), void*) {
  return 0;
}
extern "C" {
void* __dso_handle = nullptr;
}
