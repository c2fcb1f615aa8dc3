#include "device/device_session.h"

#include <new>

namespace mcusplit::device {

DeviceSession::DeviceSession(SessionLink& link, SessionClock& clock, const SessionMemory& memory,
                             uint32_t receive_timeout_ms)
    : link_(link), clock_(clock), memory_(memory), receive_timeout_ms_(receive_timeout_ms) {}

bool DeviceSession::load(const DeviceProgram& program, const char* name, Reason* why) {
  program_ = &program;
  uint32_t n = 0;
  for (; name != nullptr && name[n] != '\0' && n + 1 < sizeof(name_); ++n) name_[n] = name[n];
  name_[n] = '\0';
  if (memory_.frame_bytes < kMinSessionFrameBytes) {
    why->add("its frame buffer holds ").dec(static_cast<uint64_t>(memory_.frame_bytes));
    why->add(" bytes, a session needs ").dec(static_cast<uint64_t>(kMinSessionFrameBytes));
    return false;
  }
  DeviceRuntime* runtime = new (runtime_storage_) DeviceRuntime(
      program, memory_.arena, memory_.arena_bytes, memory_.frame, memory_.frame_bytes, &link_);
  if (runtime->setup_status() != RuntimeStatus::Ok) {
    const RuntimeFailure& f = runtime->failure();
    why->add("the device runtime refuses its program: ").add(runtime_status_name(f.status));
    why->add(" (").add(f.detail).add(")");
    return false;
  }
  loaded_ = true;
  return true;
}

SessionEnd DeviceSession::serve(uint32_t idle_timeout_ms, OpObserver* observer) {
  message_ = Reason{};
  if (!loaded_) {
    message_.add("the session has no program");
    return SessionEnd::Unexpected;
  }
  for (;;) {
    ControlMessage m;
    const TransportStatus s = link_.wait_control(&m, idle_timeout_ms);
    if (s == TransportStatus::Timeout) {
      add_device_name(message_, name_, program_->participant);
      message_.add(": no command from the coordinator within ").dec(idle_timeout_ms).add(" ms");
      return SessionEnd::Idle;
    }
    if (s != TransportStatus::Ok) {
      add_device_name(message_, name_, program_->participant);
      message_.add(": the link to the coordinator failed between inferences: ");
      message_.add(link_.error()[0] != '\0' ? link_.error() : transport_status_name(s));
      return SessionEnd::LinkFailed;
    }
    const FrameHeader& h = m.header;
    switch (h.type) {
      case MessageType::Ping:
        link_.send_control(MessageType::Pong, h.source, h.inference_id, m.payload, m.payload_bytes);
        break;
      case MessageType::Stop:
        if (h.inference_id == kNoInference) return SessionEnd::Shutdown;
        break;  // nothing runs: nothing to abandon
      case MessageType::Start:
        switch (run_inference(h.inference_id, observer)) {
          case RunEnd::Done:
          case RunEnd::Abandoned:
            break;
          case RunEnd::Shutdown:
            return SessionEnd::Shutdown;
          case RunEnd::Failed:
            return SessionEnd::RuntimeFailed;
        }
        break;
      default:
        add_device_name(message_, name_, program_->participant);
        message_.add(": unexpected ").add(message_type_name(h.type)).add(" message");
        send_error(h.source, h.inference_id, ErrorCode::UnexpectedMessage);
        return SessionEnd::Unexpected;
    }
  }
}

DeviceSession::RunEnd DeviceSession::run_inference(uint32_t id, OpObserver* observer) {
  link_.begin_inference(id);
  RunTimer timer(clock_, memory_.records, observer);
  timer.start();
  DeviceRuntime& runtime = *this->runtime();
  const RuntimeStatus status = runtime.run(nullptr, 0, nullptr, 0, &timer);
  const uint64_t total_us = timer.elapsed_us();
  if (status != RuntimeStatus::Ok) {
    const Interruption stop = link_.interruption();
    if (!stop.pending) {
      send_stopped_at(id, runtime.failure().op_index);
      describe_failure(runtime.failure());
      send_error(coordinator(), id, ErrorCode::RuntimeFailed);
      return RunEnd::Failed;
    }
    link_.end_interruption();
    if (stop.type == MessageType::Stop && stop.inference_id == kNoInference) {
      return RunEnd::Shutdown;
    }
    // Abandoned (a Stop, or the coordinator's Error): say where this device
    // was, so that the coordinator can say where the run stopped.
    send_stopped_at(id, runtime.failure().op_index);
    return RunEnd::Abandoned;
  }
  link_.send_control(MessageType::Result, coordinator(), id, nullptr, 0,
                     static_cast<uint32_t>(program_->output_tensor));
  send_stats(id, timer, total_us);
  ++inferences_;
  return RunEnd::Done;
}

void DeviceSession::describe_failure(const RuntimeFailure& f) {
  Reason& t = message_;
  add_device_name(t, name_, program_->participant);
  if (f.op_index >= 0 && f.op_index < program_->op_count) {
    const DeviceOp& op = program_->ops[f.op_index];
    t.add(" failed at op ").dec(static_cast<uint32_t>(f.op_index)).add(" (");
    t.add(device_op_kind_name(op.kind)).add(", step ").dec(static_cast<uint32_t>(op.step));
    if (op.kind == DeviceOpKind::Compute) t.add(", layer ").dec(static_cast<uint32_t>(op.layer));
    if (op.peer >= 0) t.add(", peer ").dec(static_cast<uint32_t>(op.peer));
    t.add(")");
  } else {
    t.add(" failed before its first op");
  }
  t.add(": ").add(runtime_status_name(f.status)).add(": ").add(f.detail);
  if (f.status == RuntimeStatus::TransportFailed) {
    t.add(" (").add(transport_status_name(f.transport));
    if (f.transport == TransportStatus::Timeout)
      t.add(" after ").dec(receive_timeout_ms_).add(" ms");
    if (link_.error()[0] != '\0') t.add(": ").add(link_.error());
    t.add(")");
  }
  if (f.status == RuntimeStatus::KernelFailed) {
    t.add(" (kernel status ").dec(static_cast<uint32_t>(f.kernel)).add(")");
  }
}

void DeviceSession::send_error(uint16_t destination, uint32_t id, ErrorCode code) {
  // Encoded in the frame buffer (at least kMinSessionFrameBytes: the whole
  // message fits), which no run is using now; not on the stack, where it
  // would deepen the deepest path of a small device.
  auto* body = reinterpret_cast<uint8_t*>(memory_.frame);
  const size_t room = static_cast<size_t>(
      memory_.frame_bytes < kDefaultMaxPayload ? memory_.frame_bytes : kDefaultMaxPayload);
  const size_t n = encode_error_payload(code, message_.c_str(), body, room);
  link_.send_control(MessageType::Error, destination, id, body, static_cast<uint32_t>(n));
}

void DeviceSession::send_stopped_at(uint32_t id, int32_t op) {
  uint8_t body[kStatRecordBytes];
  encode_stat(StatKey::StoppedAtOp, static_cast<uint64_t>(op < 0 ? 0 : op), body);
  link_.send_control(MessageType::Stats, coordinator(), id, body, sizeof(body));
}

// Span records and compute clock records (as many Stats frames as they
// take), then the summary.
TransportStatus DeviceSession::send_stats(uint32_t id, const RunTimer& timer, uint64_t total_us) {
  // The run is over: the frame buffer is free.
  auto* body = reinterpret_cast<uint8_t*>(memory_.frame);
  uint64_t room = static_cast<uint64_t>(memory_.frame_bytes);
  if (room > kDefaultMaxPayload) room = kDefaultMaxPayload;
  const auto max_payload = static_cast<uint64_t>(link_.max_payload());
  if (max_payload > 0 && room > max_payload) room = max_payload;
  const auto per_frame = static_cast<uint32_t>(room / kStatRecordBytes);
  uint32_t n = 0;
  TransportStatus status = TransportStatus::Ok;
  const auto flush = [&] {
    if (n == 0) return;
    const TransportStatus s = link_.send_control(MessageType::Stats, coordinator(), id, body, n);
    if (status == TransportStatus::Ok) status = s;
    n = 0;
  };
  const auto put = [&](uint32_t key, uint64_t value) {
    store_le32(body + n, key);
    store_le64(body + n + 4, value);
    n += kStatRecordBytes;
    if (n == per_frame * kStatRecordBytes) flush();
  };
  for (uint32_t i = 0; i < timer.span_count(); ++i) {
    const SpanRecord& s = timer.spans()[i];
    put(s.key, (static_cast<uint64_t>(s.begin_us) << 32) | s.duration_us);
  }
  for (uint32_t i = 0; i < timer.clock_count(); ++i) {
    const ComputeClockRecord& c = timer.compute_clocks()[i];
    put(compute_clock_key(c.step), c.ticks);
  }
  flush();
  // The summary in one frame, keys ascending; FramesSent counts this frame.
  const RuntimeStats& s = runtime()->stats();
  const LinkFrameCounts frames = link_.frame_counts();
  const auto summary = [&](StatKey key, uint64_t value) {
    encode_stat(key, value, body + n);
    n += kStatRecordBytes;
  };
  summary(StatKey::TotalMicros, total_us);
  summary(StatKey::ComputeMicros, timer.compute_us());
  summary(StatKey::WaitMicros, timer.wait_us());
  summary(StatKey::BytesSent, static_cast<uint64_t>(s.bytes_sent));
  summary(StatKey::BytesReceived, static_cast<uint64_t>(s.bytes_received));
  summary(StatKey::FramesSent, frames.sent + 1);
  summary(StatKey::FramesReceived, frames.received);
  summary(StatKey::PeakArenaBytes, static_cast<uint64_t>(s.high_water_bytes));
  summary(StatKey::DataFramesSent, static_cast<uint64_t>(s.frames_sent));
  summary(StatKey::CreditFramesSent, static_cast<uint64_t>(s.credit_grants));
  if (clock_.compute_clock_records()) summary(StatKey::ClockHz, clock_.ticks_per_second());
  // Lossy links only (elsewhere always 0, and left out).
  if (frames.retransmissions > 0) summary(StatKey::Retransmissions, frames.retransmissions);
  if (frames.duplicates_dropped > 0) {
    summary(StatKey::DuplicatesDropped, frames.duplicates_dropped);
  }
  if (frames.link_frames_dropped > 0) {
    summary(StatKey::LinkFramesDropped, frames.link_frames_dropped);
  }
  if (frames.ack_round_trip_p10_us > 0) {
    summary(StatKey::AckRoundTripP10Micros, frames.ack_round_trip_p10_us);
    summary(StatKey::AckRoundTripMedianMicros, frames.ack_round_trip_median_us);
  }
  flush();
  return status;
}

}  // namespace mcusplit::device
