#include "uart_cmsdk.h"

#include "registers.h"

namespace mcusplit::fw {

bool CmsdkUart::init(uint32_t baud, uint32_t pclk_hz) {
  const uint32_t div = baud_divisor(baud, pclk_hz);
  reg(kCtrl) = 0;
  if (div == 0) return false;
  reg(kBaudDiv) = div;
  clear_overrun();
  acknowledge_rx_interrupt();
  reg(kCtrl) = kCtrlTxEnable | kCtrlRxEnable | kCtrlRxInterruptEnable;
  fw::reg(kNvicIser0 + 4 * (rx_irq_ / 32)) = 1u << (rx_irq_ % 32);
  return true;
}

void CmsdkUart::write_byte(uint8_t byte) {
  while ((reg(kState) & kStateTxFull) != 0) {
  }
  reg(kData) = byte;
}

void CmsdkUart::write(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) write_byte(data[i]);
}

void CmsdkUart::write_text(const char* text) {
  while (text != nullptr && *text != '\0') write_byte(static_cast<uint8_t>(*text++));
}

void CmsdkUart::flush() {
  while ((reg(kState) & kStateTxFull) != 0) {
  }
}

bool CmsdkUart::try_read_byte(uint8_t* byte) {
  if ((reg(kState) & kStateRxFull) == 0) return false;
  *byte = static_cast<uint8_t>(reg(kData));
  return true;
}

bool CmsdkUart::read_byte(uint8_t* byte, uint32_t timeout_ms) {
  return sleep_until([this] { return (reg(kState) & kStateRxFull) != 0; }, timeout_ms) &&
         try_read_byte(byte);
}

CmsdkUart& uart0() {
  static CmsdkUart uart(kUart0Base, kUart0RxIrq);
  return uart;
}

}  // namespace mcusplit::fw

extern "C" void UART0RX_IRQHandler() {
  mcusplit::fw::uart0().acknowledge_rx_interrupt();
}
