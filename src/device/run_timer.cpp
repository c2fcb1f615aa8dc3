#include "device/run_timer.h"

#include "device/protocol.h"

namespace mcusplit::device {

namespace {

// The span kinds of the protocol: 0 compute, 1 receive, 2 send, 3 other.
uint32_t span_kind(DeviceOpKind k) {
  switch (k) {
    case DeviceOpKind::Compute:
      return 0;
    case DeviceOpKind::Receive:
      return 1;
    case DeviceOpKind::Send:
      return 2;
    default:
      return 3;
  }
}

uint32_t clamp32(uint64_t v) {
  return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(v);
}

}  // namespace

uint64_t RunTimer::to_us64(uint64_t ticks) const {
  const uint64_t hz = clock_.ticks_per_second();
  if (hz == 1000000) return ticks;
  // Split so that ticks * 1e6 cannot overflow for any run length.
  return ticks / hz * 1000000 + ticks % hz * 1000000 / hz;
}

uint32_t RunTimer::to_us(uint64_t ticks) const {
  return clamp32(to_us64(ticks));
}

void RunTimer::start() {
  start_ticks_ = clock_.ticks();
  span_count_ = 0;
  clock_count_ = 0;
  op_count_ = 0;
  last_span_kept_ = false;
  last_clock_kept_ = false;
  compute_ticks_ = 0;
  wait_ticks_ = 0;
}

void RunTimer::op_begin(int32_t op_index, const DeviceOp& op) {
  if (op.kind == DeviceOpKind::Compute) compute_token_ = clock_.compute_begin();
  op_start_ticks_ = clock_.ticks();
  if (next_ != nullptr) next_->op_begin(op_index, op);
}

void RunTimer::op_end(int32_t op_index, const DeviceOp& op, RuntimeStatus status) {
  const uint64_t now = clock_.ticks();
  const uint64_t spent = now - op_start_ticks_;
  const uint32_t kind = span_kind(op.kind);
  const uint32_t key = step_record_key(kind, static_cast<uint32_t>(op.step));
  // The op continues the span (and, for Compute, the clock record) of the
  // op before it: same kind, same step.
  const bool continues = op_count_ > 0 && key == last_key_;
  last_key_ = key;
  ++op_count_;
  if (kind == 0) {
    clock_.compute_end(compute_token_);
    compute_ticks_ += spent;
    if (clock_.compute_clock_records()) {
      if (continues) {
        if (last_clock_kept_) {
          ComputeClockRecord& c = records_.clocks[clock_count_ - 1];
          c.ticks = clamp32(uint64_t{c.ticks} + spent);
        }
      } else {
        last_clock_kept_ = clock_count_ < records_.clock_capacity;
        if (last_clock_kept_) {
          records_.clocks[clock_count_++] =
              ComputeClockRecord{static_cast<uint32_t>(op.step), clamp32(spent)};
        }
      }
    }
  }
  if (kind == 1 || kind == 2) wait_ticks_ += spent;
  if (next_ != nullptr) next_->op_end(op_index, op, status);
  SpanRecord* spans = records_.spans;
  if (continues) {
    if (last_span_kept_) {
      SpanRecord& last = spans[span_count_ - 1];
      last.duration_us = to_us(now - start_ticks_) - last.begin_us;
    }
    return;
  }
  last_span_kept_ = span_count_ < records_.span_capacity;
  if (!last_span_kept_) return;
  spans[span_count_++] = SpanRecord{key, to_us(op_start_ticks_ - start_ticks_), to_us(spent)};
}

}  // namespace mcusplit::device
