// device::Transport over UART0 (docs/firmware.md, "The device firmware"):
// protocol frames (docs/protocol.md) on a byte stream, read with the
// resynchronising SerialFrameReader and written header (encode_header),
// payload and CRC straight from where each lies. Star
// topology only: the UART is this device's one link, to the coordinator,
// which relays every frame to and from the other devices, so every frame
// goes out on the UART whatever its destination, and frames from any source
// come in on it.
//
// What each frame is (a Data chunk or Credit grant of the running
// inference, one of an abandoned inference, credit kept for a later one, a
// control message, a frame refused) is decided by device::InboundDispatcher,
// the rules the host's socket transport follows too; this file does the
// bytes and stores the payloads. During a run, poll() answers a Ping with a
// Pong itself and ends with Closed on a Stop or an Error from the
// coordinator (which interruption() then describes); between runs,
// wait_control() hands every control message to the caller.
//
// No frame-sized buffer of its own: a Data chunk's payload goes straight
// from the reader's input into the caller's buffer at the chunk's offset, a
// frame sent goes out as its encoded header, its payload from the caller's
// memory and its CRC, and control payloads are kept in a buffer the firmware
// lends (the runtime's frame buffer: the runtime keeps nothing in it while it
// polls, and between runs it is idle). The transport holds the 72-byte
// header, the reader, a send sequence per participant and the dispatcher
// (a receive sequence and kept credit per participant): 1,072 bytes with
// kMaxParticipants = 32 (docs/firmware.md, "Memory").
#pragma once

#include <cstdint>

#include "device/device_runtime.h"
#include "device/frame_codec.h"
#include "device/inbound_dispatcher.h"
#include "device/protocol.h"
#include "device/serial_frame_reader.h"
#include "device/session_link.h"
#include "device/transport.h"
#include "uart_cmsdk.h"

namespace mcusplit::fw {

// The largest frame payload this firmware encodes or accepts: the protocol's
// default, which is what `mcusplit plan` writes into every plan.
inline constexpr uint32_t kFramePayloadBytes = device::kDefaultMaxPayload;
static_assert(kFramePayloadBytes <= 0xFFFF, "control payload lengths are kept in 16 bits");

class UartTransport final : public device::SessionLink {
 public:
  // `control_buffer` (at least kFramePayloadBytes, outliving the transport)
  // holds the payload of the control message last received: see above.
  UartTransport(CmsdkUart& uart, uint8_t* control_buffer);
  UartTransport(const UartTransport&) = delete;
  UartTransport& operator=(const UartTransport&) = delete;

  // This participant (the destination of the coordinator's first Ping).
  // Until it is set, frames for any destination are taken.
  void set_self(uint16_t self) { inbound_.set_self(self); }
  uint16_t self() const override { return inbound_.self(); }
  // The plan: its hash (sent with every frame and required on every frame
  // received), its max payload (at most kFramePayloadBytes) and the
  // participants (at most device::kMaxParticipants).
  void set_plan(uint64_t plan_hash, uint32_t max_payload, int32_t participant_count);
  // Where Provision messages go (docs/firmware.md, "Provisioning over the
  // link"): between runs, each chunk's payload is written at `buffer` + its
  // offset, and wait_control() hands over the message once its last chunk
  // arrived (payload_bytes 0: the body is in the buffer). A message larger
  // than `capacity`, or chunks out of order, are refused with an Error
  // (BadProvision). Without a buffer every Provision is refused.
  void set_provision_buffer(uint8_t* buffer, uint32_t capacity) {
    provision_ = buffer;
    provision_capacity_ = capacity;
  }
  // How long poll() waits for the next event before it answers Timeout.
  void set_timeout_ms(uint32_t timeout_ms) { timeout_ms_ = timeout_ms; }
  uint32_t timeout_ms() const { return timeout_ms_; }
  // The inference the next polls belong to; frames of earlier inferences are
  // dropped from now on, and credit kept for this one is handed out.
  void set_inference(uint32_t id) { inbound_.set_inference(id); }
  uint32_t inference() const { return inbound_.inference(); }

  // device::Transport: destinations are participant indices; every frame
  // goes over the UART (star: the coordinator relays).
  int32_t max_payload() const override { return static_cast<int32_t>(max_payload_); }
  device::TransportStatus send_chunk(const device::ChunkHeader& header,
                                     const int8_t* payload) override;
  device::TransportStatus grant_credit(int32_t source, int64_t bytes) override;
  device::TransportStatus poll(device::LinkEvent* event, int8_t* payload,
                               int32_t payload_capacity) override;

  // device::SessionLink. wait_control: Data and Credit of later inferences
  // are kept, of earlier ones dropped; Data of the current one (no run in
  // progress) fails. A Provision message's body is in the provisioning
  // buffer (payload_bytes 0).
  device::TransportStatus wait_control(device::ControlMessage* out, uint32_t timeout_ms) override;
  device::TransportStatus send_control(device::MessageType type, uint16_t destination,
                                       uint32_t inference_id, const uint8_t* payload,
                                       uint32_t payload_bytes, uint32_t tensor = 0) override;
  void begin_inference(uint32_t id) override {
    set_inference(id);
    frames_sent_ = 0;
    inbound_.reset_count();
    interrupt_ = device::Interruption{};
  }
  device::Interruption interruption() const override { return interrupt_; }
  void end_interruption() override { interrupt_ = device::Interruption{}; }
  device::LinkFrameCounts frame_counts() const override {
    return {frames_sent_, inbound_.received()};
  }
  // An Error frame: code, then the text (truncated to kFramePayloadBytes).
  device::TransportStatus send_error(uint16_t destination, uint32_t inference_id,
                                     device::ErrorCode code, const char* text);

  // The first link failure since the last clear (static text), "" if none.
  // Failures are reported to the frame's sender with an Error frame where
  // the protocol says so.
  const char* error() const override { return error_; }

  const device::SerialReaderStats& reader_stats() const { return reader_.stats(); }
  // Waits until the last byte written has left the UART.
  void flush() { uart_.flush(); }

 private:
  // What read_frame() produced.
  enum class Got : uint8_t { Nothing, Data, Credit, Control };

  // Reads bytes until one whole frame for this participant has been handled
  // or `timeout_ms` passes (Timeout). Data chunks go to `payload` (Data, if
  // `running` and of the current inference), Credit to `event` or kept by
  // the dispatcher, control messages to control_ (Control).
  device::TransportStatus read_frame(uint32_t timeout_ms, bool running, device::LinkEvent* event,
                                     int8_t* payload, int32_t payload_capacity, Got* got);
  // One frame whose payload is `head` then `tail` (either may be empty):
  // the header, the two pieces and the CRC go out on the UART as they are.
  device::TransportStatus send_frame(device::FrameHeader h, const uint8_t* head,
                                     uint32_t head_bytes, const uint8_t* tail = nullptr,
                                     uint32_t tail_bytes = 0);
  static device::FrameHeader control_header(device::MessageType type, uint16_t destination,
                                            uint32_t inference_id, uint32_t payload_bytes,
                                            uint32_t tensor);
  device::TransportStatus fail(const char* what);
  // Error BadProvision to the sender of a Provision chunk that is refused.
  void refuse_provision(const device::FrameHeader& h);

  // Ordered without padding: the firmware's RAM is counted to the byte.
  CmsdkUart& uart_;
  device::SerialFrameReader reader_;  // its config holds the plan hash
  device::InboundDispatcher inbound_;
  uint64_t frames_sent_ = 0;
  uint32_t timeout_ms_ = 60000;
  uint16_t max_payload_ = kFramePayloadBytes;
  uint16_t control_bytes_ = 0;  // of control_
  uint8_t* control_;            // lent: see the constructor
  device::Interruption interrupt_;
  const char* error_ = "";

  // Provision: the buffer, and the chunks of the message received in order.
  uint8_t* provision_ = nullptr;
  uint32_t provision_capacity_ = 0;
  device::ChunkAssembly provision_chunks_;
  bool provision_refused_ = false;  // the message being received was refused

  // The frame being read: where its payload goes.
  enum class Sink : uint8_t { Drop, Caller, Control, Provision };
  Sink sink_ = Sink::Drop;
  uint8_t tx_header_[device::kHeaderBytes] = {};
  device::StreamSequences send_sequences_;
};

}  // namespace mcusplit::fw
