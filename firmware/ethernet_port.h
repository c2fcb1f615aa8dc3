// Ethernet as a frame port (docs/firmware.md, "Ethernet"): each protocol
// frame in one Ethernet frame (device/ethernet_frame.h) through the switch,
// to the MAC its destination participant has in the route table the
// Provision message brings. Until then (an unprovisioned device talks only
// to the coordinator) a frame goes back to the MAC the last frame came from.
// Received frames not for this device, not of the protocol's EtherType, too
// short, or (once routes are known) from a MAC that is no participant's are
// dropped and counted; the rest reach the link transport as a byte stream
// whose frame boundaries it is told (starts_frame). Frames may be lost: the
// link transport acknowledges and retransmits.
#pragma once

#include <cstdint>

#include "device/device_runtime.h"
#include "device/ethernet_frame.h"
#include "frame_port.h"
#include "lan9118.h"

namespace mcusplit::fw {

// Frames dropped below the protocol, by reason.
struct EthernetDrops {
  uint32_t short_frames = 0;
  uint32_t wrong_type = 0;
  uint32_t not_addressed = 0;
  uint32_t unknown_source = 0;
};

class EthernetPort final : public FramePort {
 public:
  // `retransmit`: the link's state for acknowledging and retransmitting
  // (Ethernet loses frames), outliving the port.
  EthernetPort(Lan9118& nic, RetransmitState& retransmit) : nic_(nic), retransmit_(retransmit) {}

  // Starts the controller; false if there is none.
  bool start() { return nic_.init(&mac_); }
  const device::MacAddress& mac() const { return mac_; }
  // Where frames for `participant` go, from the Provision message; once
  // one is set, only frames from MACs in the table are taken.
  void set_route(uint16_t participant, const device::MacAddress& mac);
  const EthernetDrops& drops() const { return drops_; }

  uint32_t read(uint8_t* buffer, uint32_t capacity, uint32_t wait_ms,
                bool* starts_frame) override;
  bool begin_frame(uint16_t destination, uint32_t bytes) override;
  void write(const uint8_t* data, uint32_t bytes) override;
  void flush() override {}  // the controller sends a frame once its last segment is written
  RetransmitState* retransmit_state() override { return &retransmit_; }
  uint64_t frames_dropped() const override {
    return static_cast<uint64_t>(drops_.short_frames) + drops_.wrong_type + drops_.not_addressed +
           drops_.unknown_source;
  }

 private:
  // Starts the next received frame if one waits: checks its Ethernet
  // header; true when its protocol bytes are ready to read.
  bool open_frame();
  uint8_t next_byte();
  void drain_frame();
  bool known_source(const device::MacAddress& mac) const;

  Lan9118& nic_;
  RetransmitState& retransmit_;
  device::MacAddress mac_;
  device::MacAddress last_source_;  // where frames go before routes are known
  device::MacAddress routes_[device::kMaxParticipants];
  bool routed_[device::kMaxParticipants] = {};
  bool routes_known_ = false;
  // The frame being read: its FIFO words still to pop, its protocol bytes
  // still to hand out, and the bytes of the word popped last not yet used.
  uint32_t words_left_ = 0;
  uint32_t bytes_left_ = 0;
  uint32_t word_ = 0;
  uint8_t word_bytes_ = 0;
  bool frame_start_ = false;
  // The frame being sent: bytes still to come, and whether its first
  // segment (the Ethernet header) is out.
  uint32_t tx_left_ = 0;
  uint32_t tx_frame_bytes_ = 0;
  EthernetDrops drops_;
};

}  // namespace mcusplit::fw
