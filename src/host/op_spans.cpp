#include "host/op_spans.h"

#include <algorithm>
#include <cmath>

#include "device/frame_codec.h"

namespace mcusplit::host {

namespace {

SpanKind kind_of(const device::DeviceOp& op) {
  switch (op.kind) {
    case device::DeviceOpKind::Compute:
      return SpanKind::Compute;
    case device::DeviceOpKind::Receive:
      return SpanKind::Receive;
    case device::DeviceOpKind::Send:
      return SpanKind::Send;
    default:
      return SpanKind::Other;
  }
}

int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// A span record: key = device::step_record_key(kind, step); value =
// begin_us << 32 | duration_us (each clamped to 32 bits).
constexpr uint32_t kStepMask = device::kStepRecordStepMask;

}  // namespace

const char* span_kind_name(SpanKind kind) {
  switch (kind) {
    case SpanKind::Compute:
      return "compute";
    case SpanKind::Receive:
      return "receive";
    case SpanKind::Send:
      return "send";
    case SpanKind::Other:
      return "copy";
  }
  return "other";
}

void SpanRecorder::op_begin(int32_t /*op_index*/, const device::DeviceOp& /*op*/) {
  op_start_ = Clock::now();
}

void SpanRecorder::op_end(int32_t /*op_index*/, const device::DeviceOp& op,
                          device::RuntimeStatus /*status*/) {
  const Clock::time_point now = Clock::now();
  const SpanKind kind = kind_of(op);
  if (!spans_.empty() && spans_.back().kind == kind && spans_.back().step == op.step) {
    spans_.back().duration_us = micros(now - start_) - spans_.back().begin_us;
    return;
  }
  spans_.push_back(Span{kind, op.step, micros(op_start_ - start_), micros(now - op_start_)});
}

int64_t SpanRecorder::total_us(SpanKind kind) const {
  int64_t total = 0;
  for (const Span& s : spans_) {
    if (s.kind == kind) total += s.duration_us;
  }
  return total;
}

std::vector<std::vector<uint8_t>> encode_span_stats(const std::vector<Span>& spans,
                                                    size_t max_payload) {
  const size_t per_body = std::max<size_t>(1, max_payload / device::kStatRecordBytes);
  std::vector<std::vector<uint8_t>> bodies;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i % per_body == 0) bodies.emplace_back();
    const Span& s = spans[i];
    const uint32_t key =
        device::step_record_key(static_cast<uint32_t>(s.kind), static_cast<uint32_t>(s.step));
    const auto clamp32 = [](int64_t v) {
      return static_cast<uint64_t>(std::clamp<int64_t>(v, 0, UINT32_MAX));
    };
    const uint64_t value = (clamp32(s.begin_us) << 32) | clamp32(s.duration_us);
    std::vector<uint8_t>& body = bodies.back();
    body.resize(body.size() + device::kStatRecordBytes);
    device::store_le32(body.data() + body.size() - 12, key);
    device::store_le64(body.data() + body.size() - 8, value);
  }
  return bodies;
}

namespace {

// Calls f(kind, step, value) for every per-step record (key bit 31 set) of
// a Stats body, in order.
template <class F>
void for_each_step_record(const std::vector<uint8_t>& body, F&& f) {
  for (size_t at = 0; at + device::kStatRecordBytes <= body.size();
       at += device::kStatRecordBytes) {
    const uint32_t key = device::load_le32(body.data() + at);
    if (!is_span_key(key)) continue;
    f((key >> 24) & 0x7Fu, static_cast<int32_t>(key & kStepMask),
      device::load_le64(body.data() + at + 4));
  }
}

}  // namespace

void decode_span_stats(const std::vector<uint8_t>& body, std::vector<Span>* out) {
  for_each_step_record(body, [out](uint32_t kind, int32_t step, uint64_t value) {
    if (kind > static_cast<uint32_t>(SpanKind::Other)) return;
    out->push_back(Span{static_cast<SpanKind>(kind), step, static_cast<int64_t>(value >> 32),
                        static_cast<int64_t>(value & 0xFFFFFFFFu)});
  });
}

void decode_compute_clocks(const std::vector<uint8_t>& body, std::vector<ComputeClock>* out) {
  for_each_step_record(body, [out](uint32_t kind, int32_t step, uint64_t value) {
    if (kind == device::kComputeClockKind) out->push_back(ComputeClock{step, value});
  });
}

std::vector<int64_t> step_instructions(const std::vector<ComputeClock>& clocks, uint64_t clock_hz,
                                       int icount_shift, int steps) {
  std::vector<int64_t> out(static_cast<size_t>(steps), 0);
  if (clock_hz == 0) return out;
  // Virtual nanoseconds per tick over nanoseconds per instruction.
  const long double instructions_per_tick =
      1e9L / static_cast<long double>(clock_hz) / static_cast<long double>(1ULL << icount_shift);
  for (const ComputeClock& c : clocks) {
    if (c.step < 0 || c.step >= steps) continue;
    out[static_cast<size_t>(c.step)] +=
        std::llround(static_cast<long double>(c.ticks) * instructions_per_tick);
  }
  return out;
}

StepTimes step_times(const std::vector<Span>& spans, int steps) {
  StepTimes t;
  t.compute_s.assign(static_cast<size_t>(steps), 0.0);
  t.wait_s.assign(static_cast<size_t>(steps), 0.0);
  for (const Span& s : spans) {
    if (s.step < 0 || s.step >= steps) continue;
    const double seconds = static_cast<double>(s.duration_us) * 1e-6;
    if (s.kind == SpanKind::Compute) t.compute_s[static_cast<size_t>(s.step)] += seconds;
    if (s.kind == SpanKind::Receive || s.kind == SpanKind::Send) {
      t.wait_s[static_cast<size_t>(s.step)] += seconds;
    }
  }
  return t;
}

}  // namespace mcusplit::host
