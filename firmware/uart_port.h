// The UART as a frame port: frames go out and come in as bytes on the line,
// which loses none (QEMU holds input back until the UART has room), so no
// acknowledgements; the link transport's frame reader resynchronises on
// whatever else the line carries.
#pragma once

#include <cstdint>

#include "frame_port.h"
#include "uart_cmsdk.h"

namespace mcusplit::fw {

// UART0, the board's one serial link (no state of its own: the firmware's
// RAM is counted to the byte).
class UartPort final : public FramePort {
 public:
  // One byte at a time: the link transport keeps nothing between reads, and
  // a UART's next frame may follow in the same bytes.
  uint32_t read(uint8_t* buffer, uint32_t capacity, uint32_t wait_ms,
                bool* starts_frame) override {
    *starts_frame = false;
    return capacity > 0 && uart0().read_byte(buffer, wait_ms) ? 1 : 0;
  }
  bool begin_frame(uint16_t, uint32_t) override { return true; }
  void write(const uint8_t* data, uint32_t bytes) override { uart0().write(data, bytes); }
  void flush() override { uart0().flush(); }
  RetransmitState* retransmit_state() override { return nullptr; }
  uint64_t frames_dropped() const override { return 0; }
};

}  // namespace mcusplit::fw
