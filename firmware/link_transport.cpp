#include "link_transport.h"

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

LinkTransport::LinkTransport(FramePort& port, uint8_t* control_buffer)
    : port_(port), control_(control_buffer) {
  // No plan yet: any plan hash, the default max payload.
  device::DecoderConfig cfg;
  cfg.max_payload = kFramePayloadBytes;
  reader_.set_config(cfg);
}

void LinkTransport::set_plan(uint64_t plan_hash, uint32_t max_payload, int32_t participant_count) {
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

TransportStatus LinkTransport::fail(const char* what) {
  if (error_[0] == '\0') error_ = what;
  return TransportStatus::Failed;
}

TransportStatus LinkTransport::send_frame(FrameHeader h, const uint8_t* head, uint32_t head_bytes,
                                          const uint8_t* tail, uint32_t tail_bytes) {
  if (h.destination >= device::kMaxParticipants || h.destination == self()) {
    return TransportStatus::BadPeer;
  }
  if ((head == nullptr && head_bytes != 0) || (tail == nullptr && tail_bytes != 0) ||
      head_bytes + tail_bytes != h.payload_bytes) {
    return fail("a frame's payload is missing");
  }
  const bool lossy = port_.retransmit_state() != nullptr;
  if (lossy && retransmit().pending) {
    // A refusal answered while reading: best effort, not worth a nested
    // read (the refused frame's sender times out without its Ack anyway).
    if (retransmit().reading) return TransportStatus::Ok;
    // Outside the runtime's polls (which wait for ready_to_send first): the
    // session's Result, Stats, Pong and Error between runs.
    const TransportStatus s = await_ack(timeout_ms_);
    if (s != TransportStatus::Ok) return s;
  }
  h.source = self();
  h.plan_hash = reader_.config().expected_plan_hash;
  h.sequence = send_sequences_.next(h.destination);
  h.flags = key_ != nullptr ? device::kFlagTagged : 0;
  device::EncoderConfig cfg;
  cfg.max_payload = kFramePayloadBytes;
  if (!device::encode_header(h, tx_header_, cfg)) return fail("a frame could not be encoded");
  const uint32_t frame_bytes =
      static_cast<uint32_t>(device::frame_bytes_for(h.payload_bytes, key_ != nullptr));
  if (!port_.begin_frame(h.destination, frame_bytes)) {
    return fail("no link address for a participant (not provisioned)");
  }
  send_sequences_.advance(h.destination);
  uint8_t crc[device::kCrcBytes];
  device::store_le32(crc, device::crc32_update(device::crc32(head, head_bytes), tail, tail_bytes));
  uint8_t tag[device::kTagBytes];
  if (key_ != nullptr) {
    tagger_.start(key_, nonce_);
    tagger_.update(tx_header_, sizeof(tx_header_));
    tagger_.update(head, head_bytes);
    tagger_.update(tail, tail_bytes);
    tagger_.update(crc, sizeof(crc));
    tagger_.finish(tag);
  }
  port_.write(tx_header_, sizeof(tx_header_));
  port_.write(head, head_bytes);
  port_.write(tail, tail_bytes);
  port_.write(crc, sizeof(crc));
  if (key_ != nullptr) port_.write(tag, sizeof(tag));
  ++frames_sent_;
  if (lossy) {
    // The copy to send again: the whole frame, contiguous.
    RetransmitState& r = retransmit();
    uint8_t* p = r.frame;
    std::memcpy(p, tx_header_, sizeof(tx_header_));
    p += sizeof(tx_header_);
    if (head_bytes > 0) std::memcpy(p, head, head_bytes);
    p += head_bytes;
    if (tail_bytes > 0) std::memcpy(p, tail, tail_bytes);
    p += tail_bytes;
    std::memcpy(p, crc, sizeof(crc));
    r.frame_bytes = frame_bytes;
    r.sequence = h.sequence;
    r.destination = h.destination;
    r.pending = true;
    r.timer.restart(millis());
    r.sent_us = static_cast<uint32_t>(micros());
  }
  return TransportStatus::Ok;
}

void LinkTransport::send_ack(const FrameHeader& answered, uint32_t sequence) {
  // From the participant the frame was for: before the greeting this device
  // does not know its own index yet, but its MAC made the frame its own.
  FrameHeader h;
  h.type = MessageType::Ack;
  h.source = answered.destination;
  h.destination = answered.source;
  h.plan_hash = reader_.config().expected_plan_hash;
  h.inference_id = answered.inference_id;
  h.message_bytes = device::kAckPayloadBytes;
  h.payload_bytes = device::kAckPayloadBytes;
  uint8_t header[device::kHeaderBytes];
  uint8_t body[device::kAckPayloadBytes + device::kCrcBytes];
  device::EncoderConfig cfg;
  cfg.max_payload = kFramePayloadBytes;
  if (!device::encode_header(h, header, cfg)) return;
  device::encode_ack_payload(sequence, body);
  device::store_le32(body + device::kAckPayloadBytes,
                     device::crc32(body, device::kAckPayloadBytes));
  if (!port_.begin_frame(h.destination, sizeof(header) + sizeof(body))) return;
  port_.write(header, sizeof(header));
  port_.write(body, sizeof(body));
}

TransportStatus LinkTransport::service_retransmission() {
  RetransmitState& r = retransmit();
  if (!r.pending) return TransportStatus::Ok;
  const uint32_t now = millis();
  if (r.timer.dead(now, timeout_ms_)) {
    // Given up: the window is free again, so that the Error saying so can
    // still reach the coordinator.
    r.pending = false;
    return fail("no acknowledgement from a peer within the receive timeout (its link is down)");
  }
  if (!r.timer.due(now)) return TransportStatus::Ok;
  if (port_.begin_frame(r.destination, r.frame_bytes)) port_.write(r.frame, r.frame_bytes);
  ++r.retransmissions;
  r.timer.backoff(now);
  return TransportStatus::Ok;
}

bool LinkTransport::take_in_order(const FrameHeader& h) {
  switch (inbound_.arrival(h)) {
    case device::Arrival::New:
      return true;
    case device::Arrival::Duplicate:
      ++retransmit().duplicates;
      break;
    case device::Arrival::Ahead:
      break;
  }
  send_ack(h, inbound_.held_through(h.source));
  return false;
}

TransportStatus LinkTransport::await_ack(uint32_t timeout_ms) {
  const uint32_t start = millis();
  while (retransmit().pending) {
    const uint32_t elapsed = millis() - start;
    if (elapsed >= timeout_ms) return TransportStatus::Timeout;
    device::LinkEvent unused;
    Got got = Got::Nothing;
    // Not running: Data is not taken (its sender will send it again), and a
    // control message that arrives meanwhile is left to the next read
    // unacknowledged (dropped here; its sender sends it again).
    const TransportStatus s =
        read_frame(timeout_ms - elapsed, false, &unused, nullptr, 0, &got, true);
    if (s != TransportStatus::Ok && s != TransportStatus::Timeout) return s;
  }
  return TransportStatus::Ok;
}

TransportStatus LinkTransport::send_chunk(const device::ChunkHeader& c, const int8_t* payload) {
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

TransportStatus LinkTransport::grant_credit(int32_t source, int64_t bytes) {
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

FrameHeader LinkTransport::control_header(MessageType type, uint16_t destination,
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

TransportStatus LinkTransport::send_control(MessageType type, uint16_t destination,
                                            uint32_t inference_id, const uint8_t* payload,
                                            uint32_t payload_bytes, uint32_t tensor) {
  if (type == MessageType::Data || type == MessageType::Provision) return TransportStatus::BadPeer;
  if (payload_bytes > kFramePayloadBytes) return TransportStatus::PayloadTooLarge;
  return send_frame(control_header(type, destination, inference_id, payload_bytes, tensor), payload,
                    payload_bytes);
}

TransportStatus LinkTransport::send_error(uint16_t destination, uint32_t inference_id,
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

void LinkTransport::refuse_provision(const FrameHeader& h) {
  mcusplit::device::Text<160> t;
  if (provision_ == nullptr || h.message_bytes > provision_capacity_) {
    t.add("its plan slice (").dec(h.message_bytes).add(" bytes) does not fit the provisioning ");
    t.add("region (").dec(provision_capacity_).add(" bytes, MCUSPLIT_FW_PROVISION_BYTES)");
  } else {
    t.add("a provisioning chunk at offset ").dec(h.chunk_offset).add(" arrived out of order");
  }
  send_error(h.source, h.inference_id, device::ErrorCode::BadProvision, t.c_str());
}

void LinkTransport::begin_tag_check(const FrameHeader& h) {
  const bool tagged = (h.flags & device::kFlagTagged) != 0;
  if (key_ == nullptr || !tagged) {
    tag_status_ = key_ == nullptr
                      ? (tagged ? device::DecodeStatus::UnexpectedTag : device::DecodeStatus::Ok)
                      : device::DecodeStatus::MissingTag;
    return;
  }
  tag_status_ = device::DecodeStatus::Ok;
  tagger_.start(key_, nonce_);
  tagger_.update(reader_.header_bytes(), device::kHeaderBytes);
}

device::DecodeStatus LinkTransport::end_tag_check() {
  if (key_ == nullptr || tag_status_ != device::DecodeStatus::Ok) return tag_status_;
  tagger_.update(reader_.crc_bytes(), device::kCrcBytes);
  uint8_t expected[device::kTagBytes];
  tagger_.finish(expected);
  return device::equal_in_constant_time(expected, reader_.tag(), device::kTagBytes)
             ? device::DecodeStatus::Ok
             : device::DecodeStatus::BadTag;
}

TransportStatus LinkTransport::read_frame(uint32_t timeout_ms, bool running,
                                          device::LinkEvent* event, int8_t* payload,
                                          int32_t payload_capacity, Got* got, bool acks_only) {
  *got = Got::Nothing;
  const bool lossy = port_.retransmit_state() != nullptr;
  const uint32_t start = millis();
  RetransmitState* const state = port_.retransmit_state();
  const ReadingScope scope(state != nullptr ? &state->reading : nullptr);
  for (;;) {
    if (lossy) {
      const TransportStatus s = service_retransmission();
      if (s != TransportStatus::Ok) return s;
      if (acks_only && !retransmit().pending) return TransportStatus::Ok;
    }
    uint32_t wait = kForever;
    if (timeout_ms != kForever) {
      const uint32_t elapsed = millis() - start;
      if (elapsed >= timeout_ms) return TransportStatus::Timeout;
      wait = timeout_ms - elapsed;
    }
    if (lossy && retransmit().pending) {
      const uint32_t due = retransmit().timer.wait_ms(millis());
      if (due < wait) wait = due;
    }
    // The port's next bytes (one at a time from the UART, whose next frame
    // may follow in them; up to a chunk of one Ethernet frame), fed to the
    // reader, whose Payload events then cover runs of bytes.
    uint8_t chunk[kReadChunkBytes];
    bool starts_frame = false;
    const uint32_t got_bytes = port_.read(chunk, sizeof(chunk), wait, &starts_frame);
    // A link frame that ended inside a protocol frame: that one is lost.
    if (got_bytes > 0 && starts_frame) reader_.reset();
    for (uint32_t at = 0; at < got_bytes;) {
      ReaderEvent ev;
      at += static_cast<uint32_t>(reader_.feed(chunk + at, got_bytes - at, &ev));
      const FrameHeader& h = reader_.header();
      switch (ev.kind) {
        case ReaderEventKind::None:
          break;
        case ReaderEventKind::Header:
          control_bytes_ = 0;
          begin_tag_check(h);
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
            sink_ = !running && !acks_only && fits ? Sink::Provision : Sink::Drop;
          } else if (h.type == MessageType::Ack) {
            // Not into the control buffer: it may hold the payload being sent
            // (Stats, a Pong) while an Ack is awaited.
            sink_ = Sink::Ack;
          } else if (acks_only) {
            sink_ = Sink::Drop;
          } else {
            sink_ = Sink::Control;
          }
          break;
        case ReaderEventKind::Payload:
          // Every payload byte, kept or dropped, is under the tag.
          if (key_ != nullptr && tag_status_ == device::DecodeStatus::Ok) {
            tagger_.update(ev.data, ev.size);
          }
          if (sink_ == Sink::Provision) {
            std::memcpy(provision_ + h.chunk_offset + ev.offset, ev.data, ev.size);
          } else if (sink_ == Sink::Caller) {
            std::memcpy(payload + ev.offset, ev.data, ev.size);
          } else if (sink_ == Sink::Ack && ev.offset + ev.size <= device::kAckPayloadBytes &&
                     lossy) {
            std::memcpy(retransmit().ack_payload + ev.offset, ev.data, ev.size);
          } else if (sink_ == Sink::Control && ev.offset + ev.size <= kFramePayloadBytes) {
            std::memcpy(control_ + ev.offset, ev.data, ev.size);
            control_bytes_ = static_cast<uint16_t>(ev.offset + ev.size);
          }
          break;
        case ReaderEventKind::FrameBadCrc:
          if (lossy) {
            // Lost on the way: its sender sends it again.
            ++retransmit().refused;
            break;
          }
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
          if (lossy) ++retransmit().refused;
          send_error(h.source, h.inference_id, device::ErrorCode::BadFrame,
                     device::decode_status_name(ev.status));
          if (running && !lossy)
            return fail("a frame was refused (wrong plan hash or a bad field)");
          break;
        case ReaderEventKind::FrameOk: {
          // Before anything is done with it: a frame refused for its tag is
          // answered like one whose header is refused (its payload, already
          // stored, goes unused).
          const device::DecodeStatus auth = end_tag_check();
          if (auth != device::DecodeStatus::Ok) {
            ++tags_refused_;
            send_error(h.source, h.inference_id, device::ErrorCode::BadFrame,
                       device::decode_status_name(auth));
            if (running) return fail("a frame was refused for its authentication tag");
            break;
          }
          if (lossy) {
            if (h.type == MessageType::Ack) {
              RetransmitState& r = retransmit();
              if (!r.pending || h.source != r.destination ||
                  !device::acknowledges(device::ack_sequence(r.ack_payload), r.sequence)) {
                break;  // an old or stray Ack
              }
              r.pending = false;
              if (r.timer.first_try()) {
                const auto round_trip = static_cast<uint32_t>(micros()) - r.sent_us;
                r.round_trip.add(round_trip);
                r.round_trip_median.add(round_trip);
              }
              if (acks_only) return TransportStatus::Ok;
              if (running) {
                // The runtime may be waiting for ready_to_send().
                event->kind = device::LinkEventKind::Progress;
                *got = Got::Progress;
                return TransportStatus::Ok;
              }
              break;
            }
            if (!take_in_order(h)) break;
            // A lossy port is addressed (a MAC): a frame taken here is this
            // device's, so its destination is this device's index even
            // before the greeting says so, and what the device sends before
            // then (an Error refusing a provisioning) names it as its source.
            if (!inbound_.self_known()) inbound_.set_self(h.destination);
            // A frame this read cannot take now is left unacknowledged: its
            // sender sends it again (Data outside a run's poll, any frame
            // while only Acks are awaited, a Ping whose Pong would wait).
            const bool data_not_now = h.type == MessageType::Data && sink_ != Sink::Caller &&
                                      !device::stale_inference(h.inference_id, inference());
            const bool defer = acks_only || data_not_now ||
                               (running && h.type == MessageType::Ping && retransmit().pending);
            if (defer) break;
          }
          const device::Inbound in = inbound_.accept(h, control_, running);
          if (lossy && !device::refused(in.kind)) send_ack(h, h.sequence);
          switch (in.kind) {
            case device::InboundKind::OtherDestination:
              if (lossy) {
                ++retransmit().refused;
                break;
              }
              return fail("a frame for another participant arrived (star topology only)");
            case device::InboundKind::UnknownSource:
              if (lossy) {
                ++retransmit().refused;
                break;
              }
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
}

TransportStatus LinkTransport::poll(device::LinkEvent* event, int8_t* payload,
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

TransportStatus LinkTransport::wait_control(device::ControlMessage* out, uint32_t timeout_ms) {
  device::LinkEvent unused;
  Got got = Got::Nothing;
  const TransportStatus s = read_frame(timeout_ms, false, &unused, nullptr, 0, &got);
  if (s != TransportStatus::Ok) return s;
  out->header = reader_.header();
  out->payload = control_;
  out->payload_bytes = control_bytes_;
  return TransportStatus::Ok;
}

void LinkTransport::flush(uint32_t timeout_ms) {
  if (!ready_to_send()) await_ack(timeout_ms);
  port_.flush();
}

}  // namespace mcusplit::fw
