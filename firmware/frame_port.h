// What carries a device's frames (docs/firmware.md, "Links"): a byte stream
// of protocol frames in, frames out. The UART (uart_port.h) carries them as
// they are, on a line that does not lose them; the Ethernet port
// (ethernet_port.h) puts each in its own Ethernet frame, which a switch may
// drop, so the link transport acknowledges and retransmits there.
#pragma once

#include <cstdint>

namespace mcusplit::fw {

struct RetransmitState;  // link_transport.h

class FramePort {
 public:
  // Waits up to `wait_ms` (kForever: no limit) for the incoming stream's
  // next bytes and copies up to `capacity` of them (at least 1) to
  // `buffer`; returns how many (0: nothing in time). A read never crosses
  // the end of a frame the port delimits (an Ethernet frame), and
  // `*starts_frame` says when its first byte begins one: a protocol frame cut
  // short before it is then abandoned rather than completed with another
  // frame's bytes.
  virtual uint32_t read(uint8_t* buffer, uint32_t capacity, uint32_t wait_ms,
                        bool* starts_frame) = 0;
  // One outgoing protocol frame of `bytes` bytes for participant
  // `destination`, handed over by write() in pieces that add up to `bytes`.
  // False if the port has no way to reach `destination`.
  virtual bool begin_frame(uint16_t destination, uint32_t bytes) = 0;
  virtual void write(const uint8_t* data, uint32_t bytes) = 0;
  // Waits until what was written has left.
  virtual void flush() = 0;
  // Frames may be lost on the way: the link acknowledges and retransmits,
  // keeping its state here (null for a port that loses nothing).
  virtual RetransmitState* retransmit_state() = 0;
  // Link frames dropped below the protocol (not for this device, unknown
  // sender, not the protocol's), since boot.
  virtual uint64_t frames_dropped() const = 0;

 protected:
  ~FramePort() = default;
};

}  // namespace mcusplit::fw
