#include "lan9118.h"

#include <cstring>

#include "clock.h"
#include "fw_board.h"
#include "registers.h"

namespace mcusplit::fw {
namespace {

// Register offsets (SMSC LAN9118 data sheet, "System Control and Status
// Registers"; the FIFO ports below 0x50).
constexpr uintptr_t kRxDataFifo = 0x00;
constexpr uintptr_t kTxDataFifo = 0x20;
constexpr uintptr_t kRxStatusFifo = 0x40;
constexpr uintptr_t kIdRev = 0x50;
constexpr uintptr_t kIrqCfg = 0x54;
constexpr uintptr_t kIntSts = 0x58;
constexpr uintptr_t kIntEn = 0x5c;
constexpr uintptr_t kByteTest = 0x64;
constexpr uintptr_t kFifoInt = 0x68;
constexpr uintptr_t kRxCfg = 0x6c;
constexpr uintptr_t kTxCfg = 0x70;
constexpr uintptr_t kRxFifoInf = 0x7c;
constexpr uintptr_t kTxFifoInf = 0x80;
constexpr uintptr_t kMacCsrCmd = 0xa4;
constexpr uintptr_t kMacCsrData = 0xa8;

constexpr uint32_t kByteTestValue = 0x87654321u;
constexpr uint32_t kIdLan9118 = 0x0118u;  // ID_REV's upper half

constexpr uint32_t kIrqEnable = 1u << 8;
constexpr uint32_t kIrqActiveHigh = 1u << 4;
constexpr uint32_t kIrqPushPull = 1u << 0;
constexpr uint32_t kIntRxStatusLevel = 1u << 3;  // RSFL: a receive status waits
constexpr uint32_t kTxOn = 1u << 1;
constexpr uint32_t kTxStatusAllowOverrun = 1u << 2;  // statuses are never read
constexpr uint32_t kRxDump = 1u << 15;

constexpr uint32_t kMacCsrBusy = 1u << 31;
constexpr uint32_t kMacCsrRead = 1u << 30;
constexpr uint32_t kMacCr = 1;
constexpr uint32_t kMacAddrH = 2;
constexpr uint32_t kMacAddrL = 3;
constexpr uint32_t kMacCrRxEnable = 1u << 2;
constexpr uint32_t kMacCrTxEnable = 1u << 3;
constexpr uint32_t kMacCrNoBroadcast = 1u << 11;
constexpr uint32_t kMacCrFullDuplex = 1u << 20;

// TX command A/B.
constexpr uint32_t kTxFirstSegment = 1u << 13;
constexpr uint32_t kTxLastSegment = 1u << 12;
constexpr uint32_t kTxSizeMask = 0x7FF;


}  // namespace

uint32_t Lan9118::mac_csr_read(uint32_t index) {
  while ((reg(kMacCsrCmd) & kMacCsrBusy) != 0) {
  }
  reg(kMacCsrCmd) = kMacCsrBusy | kMacCsrRead | index;
  while ((reg(kMacCsrCmd) & kMacCsrBusy) != 0) {
  }
  return reg(kMacCsrData);
}

void Lan9118::mac_csr_write(uint32_t index, uint32_t value) {
  while ((reg(kMacCsrCmd) & kMacCsrBusy) != 0) {
  }
  reg(kMacCsrData) = value;
  reg(kMacCsrCmd) = kMacCsrBusy | index;
  while ((reg(kMacCsrCmd) & kMacCsrBusy) != 0) {
  }
}

bool Lan9118::init(device::MacAddress* mac) {
  if (reg(kByteTest) != kByteTestValue || (reg(kIdRev) >> 16) != kIdLan9118) return false;
  const uint32_t low = mac_csr_read(kMacAddrL);
  const uint32_t high = mac_csr_read(kMacAddrH);
  for (int i = 0; i < 4; ++i) mac->bytes[i] = static_cast<uint8_t>(low >> (8 * i));
  mac->bytes[4] = static_cast<uint8_t>(high);
  mac->bytes[5] = static_cast<uint8_t>(high >> 8);
  reg(kRxCfg) = kRxDump;  // whatever arrived before this
  reg(kTxCfg) = kTxOn | kTxStatusAllowOverrun;
  mac_csr_write(kMacCr, kMacCrRxEnable | kMacCrTxEnable | kMacCrFullDuplex | kMacCrNoBroadcast);
  // An interrupt whenever a receive status is waiting: it ends wait_rx's WFI.
  reg(kFifoInt) = 0;
  reg(kIntSts) = 0xFFFFFFFFu;
  reg(kIntEn) = kIntRxStatusLevel;
  reg(kIrqCfg) = kIrqEnable | kIrqActiveHigh | kIrqPushPull;
  fw::reg(kNvicIser0 + 4 * (irq_ / 32)) = 1u << (irq_ % 32);
  return true;
}

bool Lan9118::rx_pending() const {
  return ((reg(kRxFifoInf) >> 16) & 0xFF) != 0;
}

uint32_t Lan9118::rx_begin() {
  if (!rx_pending()) return 0;
  return (reg(kRxStatusFifo) >> 16) & 0x3FFF;
}

uint32_t Lan9118::rx_word() {
  return reg(kRxDataFifo);
}

bool Lan9118::wait_rx(uint32_t timeout_ms) {
  return sleep_until([this] { return rx_pending(); }, timeout_ms);
}

void Lan9118::tx_segment(const uint8_t* data, uint32_t bytes, uint32_t frame_bytes, bool first,
                         bool last) {
  const uint32_t words = (bytes + 3) / 4;
  // Room for the two command words and the data.
  while ((reg(kTxFifoInf) & 0xFFFF) < 4 * (words + 2)) {
  }
  reg(kTxDataFifo) = (bytes & kTxSizeMask) | (first ? kTxFirstSegment : 0) |
                     (last ? kTxLastSegment : 0);
  reg(kTxDataFifo) = frame_bytes & kTxSizeMask;
  uint32_t i = 0;
  if ((reinterpret_cast<uintptr_t>(data) & 3) == 0) {
    for (; i + 4 <= bytes; i += 4) {
      uint32_t word = 0;
      std::memcpy(&word, data + i, sizeof(word));  // one aligned load
      reg(kTxDataFifo) = word;
    }
  }
  while (i < bytes) {
    uint32_t word = 0;
    for (uint32_t k = 0; k < 4 && i < bytes; ++k, ++i) word |= static_cast<uint32_t>(data[i]) << (8 * k);
    reg(kTxDataFifo) = word;
  }
}

void Lan9118::acknowledge_interrupt() {
  reg(kIntSts) = kIntRxStatusLevel;
}

Lan9118& ethernet0() {
  static Lan9118 nic(board::kLan9118Base, board::kLan9118Irq);
  return nic;
}

}  // namespace mcusplit::fw

extern "C" void ETHERNET_IRQHandler() {
  mcusplit::fw::ethernet0().acknowledge_interrupt();
}
