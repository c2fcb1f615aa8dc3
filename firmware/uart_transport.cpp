#include "uart_transport.h"

#include <cstring>

#include "clock.h"
#include "device/crc32.h"
#include "device/data_frame.h"
#include "device/text.h"

namespace mcusplit::fw {

using device::FrameHeader;
using device::MessageType;
using device::ReaderEvent;
using device::ReaderEventKind;
using device::TransportStatus;

UartTransport::UartTransport(CmsdkUart& uart, uint8_t* control_buffer)
    : uart_(uart), control_(control_buffer) {
  // No plan yet: any plan hash, the default max payload.
  device::DecoderConfig cfg;
  cfg.max_payload = kFramePayloadBytes;
  reader_.set_config(cfg);
}

void UartTransport::set_plan(uint64_t plan_hash, uint32_t max_payload, int32_t participant_count) {
  max_payload_ =
      static_cast<uint16_t>(max_payload < kFramePayloadBytes ? max_payload : kFramePayloadBytes);
  inbound_.set_participants(participant_count);
  device::DecoderConfig cfg;
  cfg.expected_plan_hash = plan_hash;
  // Control frames may use the protocol's default even when the plan's max
  // payload is smaller.
  cfg.max_payload = kFramePayloadBytes;
  reader_.set_config(cfg);
}

TransportStatus UartTransport::fail(const char* what) {
  if (error_[0] == '\0') error_ = what;
  return TransportStatus::Failed;
}

TransportStatus UartTransport::send_frame(FrameHeader h, const uint8_t* head, uint32_t head_bytes,
                                          const uint8_t* tail, uint32_t tail_bytes) {
  if (h.destination >= device::kMaxParticipants || h.destination == self()) {
    return TransportStatus::BadPeer;
  }
  if ((head == nullptr && head_bytes != 0) || (tail == nullptr && tail_bytes != 0) ||
      head_bytes + tail_bytes != h.payload_bytes) {
    return fail("a frame's payload is missing");
  }
  h.source = self();
  h.plan_hash = reader_.config().expected_plan_hash;
  h.sequence = send_sequences_.next(h.destination);
  device::EncoderConfig cfg;
  cfg.max_payload = kFramePayloadBytes;
  if (!device::encode_header(h, tx_header_, cfg)) return fail("a frame could not be encoded");
  send_sequences_.advance(h.destination);
  uint8_t crc[device::kCrcBytes];
  device::store_le32(crc, device::crc32_update(device::crc32(head, head_bytes), tail, tail_bytes));
  uart_.write(tx_header_, sizeof(tx_header_));
  uart_.write(head, head_bytes);
  uart_.write(tail, tail_bytes);
  uart_.write(crc, sizeof(crc));
  ++frames_sent_;
  return TransportStatus::Ok;
}

TransportStatus UartTransport::send_chunk(const device::ChunkHeader& c, const int8_t* payload) {
  if (c.source != self() || c.destination < 0 || c.destination >= inbound_.participants()) {
    return TransportStatus::BadPeer;
  }
  if (c.payload_bytes <= 0 || static_cast<uint32_t>(c.payload_bytes) > max_payload_) {
    return TransportStatus::PayloadTooLarge;
  }
  return send_frame(device::data_frame_header(c, inference()),
                    reinterpret_cast<const uint8_t*>(payload),
                    static_cast<uint32_t>(c.payload_bytes));
}

TransportStatus UartTransport::grant_credit(int32_t source, int64_t bytes) {
  if (source < 0 || source >= inbound_.participants()) return TransportStatus::BadPeer;
  while (bytes > 0) {
    const uint32_t grant = bytes > 0xFFFFFFFF ? 0xFFFFFFFFu : static_cast<uint32_t>(bytes);
    uint8_t body[device::kCreditPayloadBytes];
    device::encode_credit_payload(grant, body);
    const TransportStatus s = send_control(MessageType::Credit, static_cast<uint16_t>(source),
                                           inference(), body, sizeof(body));
    if (s != TransportStatus::Ok) return s;
    bytes -= grant;
  }
  return TransportStatus::Ok;
}

FrameHeader UartTransport::control_header(MessageType type, uint16_t destination,
                                          uint32_t inference_id, uint32_t payload_bytes,
                                          uint32_t tensor) {
  FrameHeader h;
  h.type = type;
  h.destination = destination;
  h.inference_id = inference_id;
  if (device::carries_box(type)) h.tensor = tensor;
  h.message_bytes = payload_bytes;
  h.payload_bytes = payload_bytes;
  return h;
}

TransportStatus UartTransport::send_control(MessageType type, uint16_t destination,
                                            uint32_t inference_id, const uint8_t* payload,
                                            uint32_t payload_bytes, uint32_t tensor) {
  if (type == MessageType::Data || type == MessageType::Provision) return TransportStatus::BadPeer;
  if (payload_bytes > kFramePayloadBytes) return TransportStatus::PayloadTooLarge;
  return send_frame(control_header(type, destination, inference_id, payload_bytes, tensor), payload,
                    payload_bytes);
}

TransportStatus UartTransport::send_error(uint16_t destination, uint32_t inference_id,
                                          device::ErrorCode code, const char* text) {
  // The code, then the text from where it lies: no payload buffer (the
  // control buffer may hold the payload of the frame being answered).
  uint8_t code_bytes[device::kErrorCodeBytes];
  device::store_le32(code_bytes, static_cast<uint32_t>(code));
  uint32_t text_bytes = 0;
  while (text != nullptr && text[text_bytes] != '\0' &&
         text_bytes < kFramePayloadBytes - device::kErrorCodeBytes) {
    ++text_bytes;
  }
  return send_frame(control_header(MessageType::Error, destination, inference_id,
                                   device::kErrorCodeBytes + text_bytes, 0),
                    code_bytes, sizeof(code_bytes), reinterpret_cast<const uint8_t*>(text),
                    text_bytes);
}

void UartTransport::refuse_provision(const FrameHeader& h) {
  mcusplit::device::Text<160> t;
  if (provision_ == nullptr || h.message_bytes > provision_capacity_) {
    t.add("its plan slice (").dec(h.message_bytes).add(" bytes) does not fit the provisioning ");
    t.add("region (").dec(provision_capacity_).add(" bytes, MCUSPLIT_FW_PROVISION_BYTES)");
  } else {
    t.add("a provisioning chunk at offset ").dec(h.chunk_offset).add(" arrived out of order");
  }
  send_error(h.source, h.inference_id, device::ErrorCode::BadProvision, t.c_str());
}

TransportStatus UartTransport::read_frame(uint32_t timeout_ms, bool running,
                                          device::LinkEvent* event, int8_t* payload,
                                          int32_t payload_capacity, Got* got) {
  *got = Got::Nothing;
  const uint32_t start = millis();
  for (;;) {
    uint32_t wait = kForever;
    if (timeout_ms != kForever) {
      const uint32_t elapsed = millis() - start;
      if (elapsed >= timeout_ms) return TransportStatus::Timeout;
      wait = timeout_ms - elapsed;
    }
    uint8_t byte = 0;
    if (!uart_.read_byte(&byte, wait)) continue;  // the deadline is checked above
    const ReaderEvent ev = reader_.push(byte);
    const FrameHeader& h = reader_.header();
    switch (ev.kind) {
      case ReaderEventKind::None:
        break;
      case ReaderEventKind::Header:
        control_bytes_ = 0;
        if (h.type == MessageType::Data) {
          // Straight into the caller's frame buffer, if this is the chunk the
          // run is waiting for and it fits; else dropped (and refused below).
          const bool wanted = inbound_.data_for_run(h, running) && payload != nullptr &&
                              h.payload_bytes <= static_cast<uint32_t>(payload_capacity);
          sink_ = wanted ? Sink::Caller : Sink::Drop;
        } else if (h.type == MessageType::Provision) {
          // Into the provisioning region, between runs only (a run reads
          // its image there), in order, and only if the whole message fits.
          if (h.chunk_offset == 0) provision_refused_ = false;
          const bool fits = provision_ != nullptr && h.message_bytes <= provision_capacity_ &&
                            provision_chunks_.in_order(h);
          sink_ = !running && fits ? Sink::Provision : Sink::Drop;
        } else {
          sink_ = Sink::Control;
        }
        break;
      case ReaderEventKind::Payload:
        if (sink_ == Sink::Provision) {
          std::memcpy(provision_ + h.chunk_offset + ev.offset, ev.data, ev.size);
        } else if (sink_ == Sink::Caller) {
          std::memcpy(payload + ev.offset, ev.data, ev.size);
        } else if (sink_ == Sink::Control && ev.offset + ev.size <= kFramePayloadBytes) {
          std::memcpy(control_ + ev.offset, ev.data, ev.size);
          control_bytes_ = static_cast<uint16_t>(ev.offset + ev.size);
        }
        break;
      case ReaderEventKind::FrameBadCrc:
        // The header was sound, so the stream stays in step: its sequence
        // number is used up. Reported to its sender; during a run it ends the
        // inference (its data is lost).
        inbound_.payload_lost(h);
        send_error(h.source, h.inference_id, device::ErrorCode::BadFrame, "bad payload crc");
        if (running) return fail("a frame's payload CRC did not match");
        break;
      case ReaderEventKind::HeaderRejected:
        // Noise: the reader has resynchronised. A sound header that is
        // refused is a real frame, reported to its sender.
        if (device::classify_malformed(ev.header_sound) == device::Malformed::Noise) break;
        send_error(h.source, h.inference_id, device::ErrorCode::BadFrame,
                   device::decode_status_name(ev.status));
        if (running) return fail("a frame was refused (wrong plan hash or a bad field)");
        break;
      case ReaderEventKind::FrameOk: {
        const device::Inbound in = inbound_.accept(h, control_, running);
        switch (in.kind) {
          case device::InboundKind::OtherDestination:
            return fail("a frame for another participant arrived (star topology only)");
          case device::InboundKind::UnknownSource:
            return fail("a frame from an unknown participant");
          case device::InboundKind::SequenceGap:
            send_error(h.source, h.inference_id, device::ErrorCode::SequenceGap,
                       "sequence gap on a stream to this device");
            return fail("sequence gap");
          case device::InboundKind::Stale:
          case device::InboundKind::CreditKept:
            break;
          case device::InboundKind::DataLater:
            send_error(h.source, h.inference_id, device::ErrorCode::UnexpectedMessage,
                       "data for an inference that is not running here");
            return fail("data arrived for an inference that is not running here");
          case device::InboundKind::Data:
            if (sink_ != Sink::Caller) return TransportStatus::PayloadTooLarge;
            *event = in.event;
            *got = Got::Data;
            return TransportStatus::Ok;
          case device::InboundKind::Credit:
            *event = in.event;
            *got = Got::Credit;
            return TransportStatus::Ok;
          case device::InboundKind::Control:
            if (h.type == MessageType::Provision && !running) {
              if (sink_ != Sink::Provision) {
                // Refused once per message; its other chunks are dropped quietly.
                if (!provision_refused_) refuse_provision(h);
                provision_refused_ = true;
                provision_chunks_.reset();
                break;
              }
              provision_refused_ = false;
              if (provision_chunks_.accept(h) != device::ChunkStep::Complete) break;
              control_bytes_ = 0;  // the body is in the provisioning buffer
            }
            *got = Got::Control;
            return TransportStatus::Ok;
        }
        break;
      }
    }
  }
}

TransportStatus UartTransport::poll(device::LinkEvent* event, int8_t* payload,
                                    int32_t payload_capacity) {
  if (interrupt_.pending) return TransportStatus::Closed;
  if (error_[0] != '\0') return TransportStatus::Failed;
  if (inbound_.take_kept_credit(event)) return TransportStatus::Ok;
  for (;;) {
    Got got = Got::Nothing;
    const TransportStatus s = read_frame(timeout_ms_, true, event, payload, payload_capacity, &got);
    if (s != TransportStatus::Ok || got != Got::Control) return s;
    const FrameHeader& h = reader_.header();
    switch (device::control_during_run(h.type)) {
      case device::RunControl::AnswerPing:
        // Liveness during a run: answered here, the run goes on.
        send_control(MessageType::Pong, h.source, h.inference_id, control_, control_bytes_);
        break;
      case device::RunControl::Interrupt:
        interrupt_.pending = true;
        interrupt_.type = h.type;
        interrupt_.inference_id = h.inference_id;
        return TransportStatus::Closed;
      case device::RunControl::Unexpected:
        send_error(h.source, h.inference_id, device::ErrorCode::UnexpectedMessage,
                   "a control message this device does not expect during a run");
        return fail("an unexpected control message arrived during a run");
    }
  }
}

TransportStatus UartTransport::wait_control(device::ControlMessage* out, uint32_t timeout_ms) {
  device::LinkEvent unused;
  Got got = Got::Nothing;
  const TransportStatus s = read_frame(timeout_ms, false, &unused, nullptr, 0, &got);
  if (s != TransportStatus::Ok) return s;
  out->header = reader_.header();
  out->payload = control_;
  out->payload_bytes = control_bytes_;
  return TransportStatus::Ok;
}

}  // namespace mcusplit::fw
