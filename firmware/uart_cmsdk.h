// Driver of the Arm CMSDK APB UART (Cortex-M System Design Kit TRM, DDI0479;
// QEMU hw/char/cmsdk-apb-uart.c): always 8N1, one byte of TX buffer and one
// of RX buffer, baud rate = PCLK / BAUDDIV with BAUDDIV >= 16. Data moves by
// polling; the receive interrupt only wakes the core from WFI while
// read_byte waits.
//
// On QEMU's mps2 boards UART0 (fw_board.h: 0x40004000; the AN505's at
// 0x50200000) is the first -serial backend, e.g.
// -serial tcp:127.0.0.1:PORT,server=on: a byte stream to a host socket. QEMU
// ignores the baud rate (the socket is as fast as the emulation) but the UART
// still refuses to work with BAUDDIV < 16, so init() programs a real divisor.
#pragma once

#include <cstddef>
#include <cstdint>

#include "clock.h"
#include "fw_board.h"

namespace mcusplit::fw {

inline constexpr uintptr_t kUart0Base = board::kUart0Base;
inline constexpr uint32_t kUart0RxIrq = board::kUart0RxIrq;
inline constexpr uint32_t kUartPclkHz = board::kClockHz;  // the APB clock (SYSCLK)
inline constexpr uint32_t kUartMinBaudDivisor = 16;

class CmsdkUart {
 public:
  // Register offsets and bits.
  static constexpr uintptr_t kData = 0x000;  // read: RX byte (clears RXFULL); write: TX byte
  static constexpr uintptr_t kState = 0x004;
  static constexpr uintptr_t kCtrl = 0x008;
  static constexpr uintptr_t kIntStatus = 0x00C;
  static constexpr uintptr_t kBaudDiv = 0x010;
  static constexpr uint32_t kStateTxFull = 1u << 0;
  static constexpr uint32_t kStateRxFull = 1u << 1;
  static constexpr uint32_t kStateTxOverrun = 1u << 2;  // write 1 to clear
  static constexpr uint32_t kStateRxOverrun = 1u << 3;  // write 1 to clear
  static constexpr uint32_t kCtrlTxEnable = 1u << 0;
  static constexpr uint32_t kCtrlRxEnable = 1u << 1;
  static constexpr uint32_t kCtrlRxInterruptEnable = 1u << 3;
  static constexpr uint32_t kIntStatusRx = 1u << 1;  // write 1 to clear

  // `rx_irq`: the UART's receive interrupt number (UART0: 0 on the AN385,
  // AN386 and AN500, 32 on the AN505), used to wake the core while read_byte
  // waits.
  constexpr CmsdkUart(uintptr_t base, uint32_t rx_irq) : base_(base), rx_irq_(rx_irq) {}

  // The divisor for `baud` from `pclk_hz`, or 0 if it would be under 16 (too
  // fast) or over the register's 20 bits.
  static constexpr uint32_t baud_divisor(uint32_t baud, uint32_t pclk_hz = kUartPclkHz) {
    if (baud == 0) return 0;
    const uint32_t div = (pclk_hz + baud / 2) / baud;
    return div >= kUartMinBaudDivisor && div <= 0xFFFFF ? div : 0;
  }

  // Programs the divisor, clears overrun flags, enables TX and RX and the
  // receive interrupt (its handler only acknowledges it: it is there to end
  // read_byte's WFI). False (UART left disabled) if baud_divisor() is 0.
  bool init(uint32_t baud, uint32_t pclk_hz = kUartPclkHz);

  // Blocks while the TX buffer is full, then hands the byte over.
  void write_byte(uint8_t byte);
  void write(const uint8_t* data, size_t size);
  void write_text(const char* text);
  // Waits until the TX buffer is empty (the last byte went to the line).
  void flush();

  // Non-blocking: a received byte, if one is waiting.
  bool try_read_byte(uint8_t* byte);
  // Waits up to timeout_ms (0: just look; kForever: no limit; any other value
  // needs clock_init, which board_init does) for one byte. The core sleeps
  // (WFI) between looks, woken by the UART's receive interrupt or the next
  // SysTick tick, so a waiting device costs QEMU little host CPU and does not
  // compete with the emulator's I/O thread for the UART (docs/firmware.md,
  // "Throughput").
  bool read_byte(uint8_t* byte, uint32_t timeout_ms);

  // A byte arrived while the previous one was still unread (it was lost).
  // QEMU never sets it (it holds input back until RX is free); hardware does.
  bool rx_overrun() const { return (reg(kState) & kStateRxOverrun) != 0; }
  void clear_overrun() { reg(kState) = kStateRxOverrun | kStateTxOverrun; }

  uintptr_t base() const { return base_; }
  // Called by the receive interrupt handler.
  void acknowledge_rx_interrupt() { reg(kIntStatus) = kIntStatusRx; }

 private:
  volatile uint32_t& reg(uintptr_t offset) const {
    return *reinterpret_cast<volatile uint32_t*>(base_ + offset);
  }

  uintptr_t base_;
  uint32_t rx_irq_;
};

// UART0 of the board.
CmsdkUart& uart0();

}  // namespace mcusplit::fw
