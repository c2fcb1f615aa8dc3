// Where a participant's time goes during one run: its ops merged into spans
// (consecutive ops of one kind in one step), timed by an OpObserver, carried
// to the coordinator as Stats records (docs/protocol.md, "Span records") and
// summed per layer or drawn as a Chrome trace.
#pragma once

#include <cstdint>
#include <vector>

#include "device/device_runtime.h"
#include "host/socket_io.h"

namespace mcusplit::host {

enum class SpanKind : uint8_t {
  Compute = 0,  // Compute ops
  Receive = 1,  // waiting for data (Receive ops)
  Send = 2,     // gathering and sending, waiting for credit (Send ops)
  Other = 3,    // LoadInput, Copy, StoreOutput
};

const char* span_kind_name(SpanKind kind);

struct Span {
  SpanKind kind = SpanKind::Other;
  int32_t step = 0;      // the plan step: layer `step`, or the output collection
  int64_t begin_us = 0;  // since the run began
  int64_t duration_us = 0;
};

// Records spans relative to the moment it is constructed.
class SpanRecorder final : public device::OpObserver {
 public:
  SpanRecorder() : start_(Clock::now()) {}
  void op_begin(int32_t op_index, const device::DeviceOp& op) override;
  void op_end(int32_t op_index, const device::DeviceOp& op, device::RuntimeStatus status) override;

  const std::vector<Span>& spans() const { return spans_; }
  int64_t total_us(SpanKind kind) const;

 private:
  Clock::time_point start_;
  Clock::time_point op_start_;
  std::vector<Span> spans_;
};

// Stats bodies holding the spans, each at most `max_payload` bytes.
std::vector<std::vector<uint8_t>> encode_span_stats(const std::vector<Span>& spans,
                                                    size_t max_payload);
// The span records of one Stats body, in order (other records skipped).
void decode_span_stats(const std::vector<uint8_t>& body, std::vector<Span>* out);
// True for a key of a span record rather than a StatKey.
constexpr bool is_span_key(uint32_t key) {
  return (key & 0x80000000u) != 0;
}

// A compute clock record (docs/protocol.md): the ticks of the device's clock
// (StatKey::ClockHz) one Compute op of `step` took. The device firmware sends
// them; host workers do not.
struct ComputeClock {
  int32_t step = 0;
  uint64_t ticks = 0;
};
void decode_compute_clocks(const std::vector<uint8_t>& body, std::vector<ComputeClock>* out);

// Guest instructions per step (size `steps`) under QEMU's -icount
// shift=`icount_shift` (2^shift virtual ns per instruction): each record's
// ticks in virtual ns over the ns per instruction, rounded per op. Exact
// when a tick is shorter than half an instruction (at 25 MHz: shift >= 7):
// reading the clock at both ends of an op loses less than one tick.
std::vector<int64_t> step_instructions(const std::vector<ComputeClock>& clocks, uint64_t clock_hz,
                                       int icount_shift, int steps);

// Seconds per step (size `steps`) in spans of each kind.
struct StepTimes {
  std::vector<double> compute_s;
  std::vector<double> wait_s;  // Receive and Send spans
};
StepTimes step_times(const std::vector<Span>& spans, int steps);

}  // namespace mcusplit::host
