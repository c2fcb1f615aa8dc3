// The worker's device::SessionLink: its SocketTransport with the
// coordinator's control messages (one whole message each, reassembled by
// the transport) as the session's commands. A run is interrupted only by
// the coordinator's Stop; an Error it sends fails the run.
#pragma once

#include <cstdint>
#include <vector>

#include "device/session_link.h"
#include "host/socket_transport.h"

namespace mcusplit::host {

class WorkerLink final : public device::SessionLink {
 public:
  WorkerLink(SocketTransport& transport, int coordinator)
      : transport_(transport), coordinator_(coordinator) {}

  int32_t max_payload() const override { return transport_.max_payload(); }
  device::TransportStatus send_chunk(const device::ChunkHeader& header,
                                     const int8_t* payload) override {
    return transport_.send_chunk(header, payload);
  }
  device::TransportStatus grant_credit(int32_t source, int64_t bytes) override {
    return transport_.grant_credit(source, bytes);
  }
  device::TransportStatus poll(device::LinkEvent* event, int8_t* payload,
                               int32_t payload_capacity) override {
    return transport_.poll(event, payload, payload_capacity);
  }

  uint16_t self() const override { return static_cast<uint16_t>(transport_.self()); }
  device::TransportStatus wait_control(device::ControlMessage* out, uint32_t timeout_ms) override;
  device::TransportStatus send_control(device::MessageType type, uint16_t destination,
                                       uint32_t inference_id, const uint8_t* payload,
                                       uint32_t payload_bytes, uint32_t tensor = 0) override {
    return transport_.send_message(destination, type, inference_id, payload, payload_bytes, tensor);
  }
  void begin_inference(uint32_t id) override {
    transport_.set_inference(id);
    transport_.reset_counters();
  }
  device::Interruption interruption() const override;
  void end_interruption() override;
  device::LinkFrameCounts frame_counts() const override {
    return {static_cast<uint64_t>(transport_.counters().frames_sent),
            static_cast<uint64_t>(transport_.counters().frames_received)};
  }
  const char* error() const override { return transport_.error().c_str(); }

 private:
  SocketTransport& transport_;
  int coordinator_;
  WireMessage message_;  // the last command, whose body wait_control hands out
};

}  // namespace mcusplit::host
