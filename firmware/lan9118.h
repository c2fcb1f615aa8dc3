// Driver for the SMSC LAN9118 Ethernet controller of QEMU's mps2 boards
// (fw_board.h: e.g. 0xA0000000, interrupt 13 on the AN500; docs/firmware.md,
// "Ethernet" and "Boards").
// Polled, with the receive interrupt only to end a wait's WFI. Frames stay in
// the controller's FIFOs until read: a received frame is read a word at a
// time straight to where its bytes go, and a frame to send is written in
// segments straight from where each piece lies (TX command A/B per segment),
// so the driver holds no frame buffer of its own. Freestanding.
#pragma once

#include <cstdint>

#include "device/ethernet_frame.h"

namespace mcusplit::fw {

class Lan9118 {
 public:
  Lan9118(uintptr_t base, uint32_t irq) : base_(base), irq_(irq) {}
  Lan9118(const Lan9118&) = delete;
  Lan9118& operator=(const Lan9118&) = delete;

  // Checks the chip is there, reads its MAC address (set by the board: QEMU's
  // -nic mac=), accepts only frames addressed to it (no broadcast, not
  // promiscuous), enables transmit and receive and the receive interrupt.
  // False if no LAN9118 answers at the base address.
  bool init(device::MacAddress* mac);

  // Receiving. A frame is read as: rx_begin() (its length, frame check
  // sequence included; 0 if none waits), then rx_word() for each of its
  // rx_words(length) words, in order, the bytes little-endian in each word.
  bool rx_pending() const;
  uint32_t rx_begin();
  uint32_t rx_word();
  static constexpr uint32_t rx_words(uint32_t length) { return (length + 3) / 4; }
  // Waits (sleeping between interrupts) until a frame is pending or
  // `timeout_ms` passed (kForever: no limit).
  bool wait_rx(uint32_t timeout_ms);

  // Sending: tx_segment() for each piece of a frame of `frame_bytes`, the
  // first with `first`, the one that completes it with `last`; the
  // controller sends it then. Pieces of any length (at least 1) and
  // alignment. Waits while the transmit FIFO has no room.
  void tx_segment(const uint8_t* data, uint32_t bytes, uint32_t frame_bytes, bool first,
                  bool last);

  // Called by the interrupt handler: the wait's wake-up has served.
  void acknowledge_interrupt();

 private:
  volatile uint32_t& reg(uintptr_t offset) const {
    return *reinterpret_cast<volatile uint32_t*>(base_ + offset);
  }
  uint32_t mac_csr_read(uint32_t index);
  void mac_csr_write(uint32_t index, uint32_t value);

  uintptr_t base_;
  uint32_t irq_;
};

// The board's LAN9118.
Lan9118& ethernet0();

}  // namespace mcusplit::fw
