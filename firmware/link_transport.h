// device::SessionLink over a frame port (docs/firmware.md, "Links"):
// protocol frames (docs/protocol.md) read with the resynchronising
// SerialFrameReader and written header (encode_header), payload and CRC
// straight from where each lies. Two ports: the UART (uart_port.h, star
// topology: the coordinator relays every frame) and Ethernet
// (ethernet_port.h, through a switch to any participant).
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
// On a lossy port (Ethernet) it acknowledges every frame it takes and every
// duplicate, and keeps the one frame it sent last until that is
// acknowledged, sending it again when no Ack comes in time
// (device/link_reliability.h): a window of one frame, whose copy is this
// link's only frame-sized buffer. The runtime asks ready_to_send() before it
// gathers a chunk or grants credit and polls until then, so a run never waits
// for an Ack where it could not take a peer's data meanwhile.
//
// With the cluster key (set_key; docs/protocol.md, "Authentication") every
// frame sent carries its tag, made as the frame goes out, and every frame
// received must carry the right one, checked as its bytes stream in and
// decided at its end, before it is acted on: a frame without a tag, with
// one when there is no key, or with a wrong one is refused like a frame
// whose header is refused (an Error to its sender; during a run the run
// fails), its payload unused. The tags' nonce is the link's, agreed at the
// greeting (set_nonce). The UART firmware only: on a lossy port the
// coordinator's bridge acknowledges for it and knows no nonce.
//
// No receive buffer of its own: a Data chunk's payload goes straight from
// the reader's input into the caller's buffer at the chunk's offset, a frame
// sent goes out as its encoded header, its payload from the caller's memory
// and its CRC, and control payloads are kept in a buffer the firmware lends
// (the runtime's frame buffer: the runtime keeps nothing in it while it
// polls, and between runs it is idle). The transport holds the 72-byte
// header, the reader, a send sequence per participant and the dispatcher
// (a receive sequence and kept credit per participant): 1,072 bytes with
// kMaxParticipants = 32 (docs/firmware.md, "Memory"), and on a lossy port
// the retransmission copy.
#pragma once

#include <cstdint>

#include "device/device_runtime.h"
#include "device/frame_codec.h"
#include "device/inbound_dispatcher.h"
#include "device/link_reliability.h"
#include "device/protocol.h"
#include "device/serial_frame_reader.h"
#include "device/session_link.h"
#include "device/transport.h"
#include "frame_port.h"

namespace mcusplit::fw {

// Bytes read from the port at once (on the stack while reading).
inline constexpr uint32_t kReadChunkBytes = 64;

// The largest frame payload this firmware encodes or accepts: the protocol's
// default, which is what `mcusplit plan` writes into every plan.
inline constexpr uint32_t kFramePayloadBytes = device::kDefaultMaxPayload;
static_assert(kFramePayloadBytes <= 0xFFFF, "control payload lengths are kept in 16 bits");

// What a link over a lossy port keeps to acknowledge and retransmit (the
// Ethernet firmware lends it; the UART firmware has none): the frame
// awaiting its Ack, whole, and the counts of what the losses cost.
struct RetransmitState {
  uint8_t frame[device::kFrameOverheadBytes + kFramePayloadBytes];
  uint32_t frame_bytes = 0;
  uint32_t sequence = 0;
  uint16_t destination = 0;
  bool pending = false;
  uint8_t ack_payload[device::kAckPayloadBytes] = {};
  device::RetransmitTimer timer;
  // Since boot: frames sent again, duplicates dropped, frames lost to a bad
  // CRC or refused (left to their senders to send again); and the counts
  // when the current inference began.
  uint32_t retransmissions = 0;
  uint32_t duplicates = 0;
  uint32_t refused = 0;
  uint32_t retransmissions_at_begin = 0;
  uint32_t duplicates_at_begin = 0;
  uint32_t dropped_at_begin = 0;
  bool reading = false;  // inside read_frame: a send there does not wait for an Ack
  // The 10th percentile and the median of the round trips of frames sent
  // once (send to Ack, microseconds), since boot: the low one is the link's
  // own turnaround, which the cost model's ack_round_trip_s stands for
  // (docs/planner.md); the median also holds waits for busy peers.
  uint32_t sent_us = 0;
  device::RoundTripQuantile round_trip{10};
  device::RoundTripQuantile round_trip_median{50};
};

class LinkTransport final : public device::SessionLink {
 public:
  // `control_buffer` (at least kFramePayloadBytes, outliving the transport)
  // holds the payload of the control message last received: see above.
  LinkTransport(FramePort& port, uint8_t* control_buffer);
  LinkTransport(const LinkTransport&) = delete;
  LinkTransport& operator=(const LinkTransport&) = delete;

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
  // The cluster key (device::kClusterKeyBytes, outliving the transport; null:
  // none), and the nonce of the link's tags (0 until the greeting). Not on
  // a lossy port (see above): set_key is ignored there.
  void set_key(const uint8_t* key) {
    if (port_.retransmit_state() == nullptr) key_ = key;
  }
  bool keyed() const { return key_ != nullptr; }
  void set_nonce(uint64_t nonce) { nonce_ = nonce; }

  // How long poll() waits for the next event before it answers Timeout.
  void set_timeout_ms(uint32_t timeout_ms) { timeout_ms_ = timeout_ms; }
  uint32_t timeout_ms() const { return timeout_ms_; }
  // The inference the next polls belong to; frames of earlier inferences are
  // dropped from now on, and credit kept for this one is handed out.
  void set_inference(uint32_t id) { inbound_.set_inference(id); }
  uint32_t inference() const { return inbound_.inference(); }

  // device::Transport: destinations are participant indices; the port
  // knows where each goes.
  int32_t max_payload() const override { return static_cast<int32_t>(max_payload_); }
  device::TransportStatus send_chunk(const device::ChunkHeader& header,
                                     const int8_t* payload) override;
  device::TransportStatus grant_credit(int32_t source, int64_t bytes) override;
  device::TransportStatus poll(device::LinkEvent* event, int8_t* payload,
                               int32_t payload_capacity) override;
  // False while the frame sent last awaits its Ack (lossy ports): poll()
  // then answers a Progress event once it came.
  bool ready_to_send() const override {
    const RetransmitState* r = port_.retransmit_state();
    return r == nullptr || !r->pending;
  }

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
    if (RetransmitState* r = port_.retransmit_state()) {
      r->retransmissions_at_begin = r->retransmissions;
      r->duplicates_at_begin = r->duplicates;
      r->dropped_at_begin = static_cast<uint32_t>(port_.frames_dropped());
    }
  }
  device::Interruption interruption() const override { return interrupt_; }
  void end_interruption() override { interrupt_ = device::Interruption{}; }
  device::LinkFrameCounts frame_counts() const override {
    device::LinkFrameCounts c{frames_sent_, inbound_.received()};
    if (const RetransmitState* lossy = port_.retransmit_state()) {
      const RetransmitState& r = *lossy;
      c.retransmissions = r.retransmissions - r.retransmissions_at_begin;
      c.duplicates_dropped = r.duplicates - r.duplicates_at_begin;
      c.link_frames_dropped = static_cast<uint32_t>(port_.frames_dropped()) - r.dropped_at_begin;
      c.ack_round_trip_p10_us = r.round_trip.estimate_us();
      c.ack_round_trip_median_us = r.round_trip_median.estimate_us();
    }
    return c;
  }
  // An Error frame: code, then the text (truncated to kFramePayloadBytes).
  device::TransportStatus send_error(uint16_t destination, uint32_t inference_id,
                                     device::ErrorCode code, const char* text);

  // The first link failure since the last clear (static text), "" if none.
  // Failures are reported to the frame's sender with an Error frame where
  // the protocol says so.
  const char* error() const override { return error_; }

  const device::SerialReaderStats& reader_stats() const { return reader_.stats(); }
  // Frames refused for their authentication tag since boot.
  uint64_t tags_refused() const { return tags_refused_; }
  // Waits until the last frame is acknowledged (lossy ports) and its bytes
  // have left the port, or `timeout_ms` passed.
  void flush(uint32_t timeout_ms = 1000);

 private:
  // Marks the time inside read_frame (restored on every return).
  struct ReadingScope {
    explicit ReadingScope(bool* flag) : flag_(flag), was_(flag != nullptr && *flag) {
      if (flag_ != nullptr) *flag_ = true;
    }
    ~ReadingScope() {
      if (flag_ != nullptr) *flag_ = was_;
    }
    ReadingScope(const ReadingScope&) = delete;
    ReadingScope& operator=(const ReadingScope&) = delete;
    bool* flag_;
    bool was_;
  };
  // What read_frame() produced.
  enum class Got : uint8_t { Nothing, Data, Credit, Control, Progress };

  // Reads bytes until one whole frame for this participant has been handled
  // or `timeout_ms` passes (Timeout). Data chunks go to `payload` (Data, if
  // `running` and of the current inference), Credit to `event` or kept by
  // the dispatcher, control messages to control_ (Control). On a lossy
  // port it also sends the unacknowledged frame again when due, takes Acks
  // (Progress while running: ready_to_send() turned true) and, with
  // `acks_only`, returns as soon as nothing awaits an Ack, taking no frame
  // but Acks meanwhile.
  // The port's retransmission state (lossy ports only: callers check).
  RetransmitState& retransmit() { return *port_.retransmit_state(); }
  device::TransportStatus read_frame(uint32_t timeout_ms, bool running, device::LinkEvent* event,
                                     int8_t* payload, int32_t payload_capacity, Got* got,
                                     bool acks_only = false);
  // One frame whose payload is `head` then `tail` (either may be empty):
  // the header, the two pieces and the CRC go out on the port as they are.
  device::TransportStatus send_frame(device::FrameHeader h, const uint8_t* head,
                                     uint32_t head_bytes, const uint8_t* tail = nullptr,
                                     uint32_t tail_bytes = 0);
  static device::FrameHeader control_header(device::MessageType type, uint16_t destination,
                                            uint32_t inference_id, uint32_t payload_bytes,
                                            uint32_t tensor);
  device::TransportStatus fail(const char* what);
  // Lossy ports: an Ack to `destination` for its stream up to `sequence`.
  void send_ack(const device::FrameHeader& answered, uint32_t sequence);
  // The frame awaiting its Ack again, if its time came; Failed once the
  // peer acknowledged nothing for the timeout.
  device::TransportStatus service_retransmission();
  // Outside polls: reads frames until the frame sent last is acknowledged.
  device::TransportStatus await_ack(uint32_t timeout_ms);
  // A sequenced frame on a lossy port: is it the one due? Duplicates and
  // frames ahead of a lost one are answered with an Ack and dropped.
  bool take_in_order(const device::FrameHeader& h);
  // Error BadProvision to the sender of a Provision chunk that is refused.
  void refuse_provision(const device::FrameHeader& h);
  // At a frame's header: starts checking its tag, or notes why it will be
  // refused (a tag missing, or one without a key). At its end: Ok if its
  // tag is right (or it needs none), else why not.
  void begin_tag_check(const device::FrameHeader& h);
  device::DecodeStatus end_tag_check();

  // Ordered without padding: the firmware's RAM is counted to the byte.
  FramePort& port_;
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
  enum class Sink : uint8_t { Drop, Caller, Control, Provision, Ack };
  Sink sink_ = Sink::Drop;
  uint8_t tx_header_[device::kHeaderBytes] = {};
  device::StreamSequences send_sequences_;

  // Authentication: the key (null: none), the link's nonce, the tag being
  // made (of the frame received, or sent: never both at once, since frames
  // are only sent between the frames read), and the verdict so far on the
  // frame being read.
  const uint8_t* key_ = nullptr;
  uint64_t nonce_ = 0;
  device::FrameTagger tagger_;
  device::DecodeStatus tag_status_ = device::DecodeStatus::Ok;
  uint64_t tags_refused_ = 0;
};

}  // namespace mcusplit::fw
