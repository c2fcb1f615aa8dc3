// Times one inference op by op through the runtime's OpObserver hooks:
// consecutive ops of one kind in one step merge into a span record
// (docs/protocol.md, span records), compute and wait totals add up every
// op, and where the clock asks for it each compute span gets a compute
// clock record (the ticks its Compute ops took, added up), so a run needs
// no more clock records than spans. The records go into caller-owned
// arrays, so the firmware keeps them in static RAM and a host worker in a
// vector; spans and clock records beyond the capacity only count in the
// totals. Freestanding.
#pragma once

#include <cstdint>

#include "device/device_runtime.h"

namespace mcusplit::device {

// The time base of a session: the firmware's cycle clock or the host's
// steady clock.
class SessionClock {
 public:
  virtual uint64_t ticks() = 0;
  virtual uint64_t ticks_per_second() const = 0;
  // True if every Compute op's ticks are worth a record of their own (a
  // deterministic clock, e.g. QEMU's -icount); the Stats then carry ClockHz.
  virtual bool compute_clock_records() const = 0;
  // Around each Compute op: the firmware masks interrupts so that no tick
  // handler runs inside it.
  virtual uint32_t compute_begin() { return 0; }
  virtual void compute_end(uint32_t /*token*/) {}

 protected:
  ~SessionClock() = default;
};

struct SpanRecord {
  uint32_t key = 0;  // step_record_key(kind, step)
  uint32_t begin_us = 0;
  uint32_t duration_us = 0;
};

// The ticks of consecutive Compute ops of one step (one compute span).
struct ComputeClockRecord {
  uint32_t step = 0;
  uint32_t ticks = 0;
};

// Caller-owned record storage.
struct RunRecords {
  SpanRecord* spans = nullptr;
  uint32_t span_capacity = 0;
  ComputeClockRecord* clocks = nullptr;
  uint32_t clock_capacity = 0;
};

class RunTimer final : public OpObserver {
 public:
  // `next` (optional) sees every op too, after this timer.
  RunTimer(SessionClock& clock, const RunRecords& records, OpObserver* next = nullptr)
      : clock_(clock), records_(records), next_(next) {}

  void start();
  void op_begin(int32_t op_index, const DeviceOp& op) override;
  void op_end(int32_t op_index, const DeviceOp& op, RuntimeStatus status) override;

  const SpanRecord* spans() const { return records_.spans; }
  uint32_t span_count() const { return span_count_; }
  const ComputeClockRecord* compute_clocks() const { return records_.clocks; }
  uint32_t clock_count() const { return clock_count_; }
  uint64_t elapsed_us() { return to_us64(clock_.ticks() - start_ticks_); }
  uint64_t compute_us() const { return to_us64(compute_ticks_); }
  uint64_t wait_us() const { return to_us64(wait_ticks_); }

 private:
  uint64_t to_us64(uint64_t ticks) const;
  uint32_t to_us(uint64_t ticks) const;

  SessionClock& clock_;
  RunRecords records_;
  OpObserver* next_;
  uint32_t span_count_ = 0;
  uint32_t clock_count_ = 0;
  uint32_t op_count_ = 0;         // ops ended since start()
  uint32_t last_key_ = 0;         // the span key of the op before
  bool last_span_kept_ = false;   // the op before's span has a record
  bool last_clock_kept_ = false;  // the op before's clock record exists
  uint32_t compute_token_ = 0;
  uint64_t start_ticks_ = 0;
  uint64_t op_start_ticks_ = 0;
  uint64_t compute_ticks_ = 0;
  uint64_t wait_ticks_ = 0;
};

}  // namespace mcusplit::device
