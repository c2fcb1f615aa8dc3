// The run timer (device/run_timer.h) on a clock the test moves by hand:
// consecutive ops of one kind in one step make one span, consecutive Compute
// ops of one step one compute clock record (their ticks added up), so a run
// needs no more clock records than spans; beyond the capacities records are
// dropped but still counted in the totals, and an op is never merged into a
// span other than its own.
#include <gtest/gtest.h>

#include <vector>

#include "device/protocol.h"
#include "device/run_timer.h"

namespace mcusplit::device {
namespace {

// One tick per microsecond, advanced only by the test.
class ManualClock final : public SessionClock {
 public:
  uint64_t ticks() override { return now; }
  uint64_t ticks_per_second() const override { return 1000000; }
  bool compute_clock_records() const override { return records; }
  uint64_t now = 0;
  bool records = true;
};

struct TimedOp {
  DeviceOpKind kind;
  int32_t step;
  uint64_t ticks;  // what the op takes
};

// Runs `ops` through `timer`, each taking its ticks, with 1 tick between ops.
void run(RunTimer& timer, ManualClock& clock, const std::vector<TimedOp>& ops) {
  timer.start();
  for (size_t i = 0; i < ops.size(); ++i) {
    DeviceOp op;
    op.kind = ops[i].kind;
    op.step = ops[i].step;
    timer.op_begin(static_cast<int32_t>(i), op);
    clock.now += ops[i].ticks;
    timer.op_end(static_cast<int32_t>(i), op, RuntimeStatus::Ok);
    clock.now += 1;
  }
}

constexpr DeviceOpKind kCompute = DeviceOpKind::Compute;
constexpr DeviceOpKind kSend = DeviceOpKind::Send;
constexpr DeviceOpKind kReceive = DeviceOpKind::Receive;

TEST(RunTimer, ConsecutiveComputeOpsOfOneStepShareASpanAndAClockRecord) {
  ManualClock clock;
  std::vector<SpanRecord> spans(8);
  std::vector<ComputeClockRecord> clocks(8);
  RunTimer timer(clock, RunRecords{spans.data(), 8, clocks.data(), 8});
  run(timer, clock,
      {{kReceive, 0, 5}, {kCompute, 0, 100}, {kCompute, 0, 30}, {kSend, 1, 7}, {kCompute, 1, 40}});
  ASSERT_EQ(timer.span_count(), 4u);
  EXPECT_EQ(spans[0].key, step_record_key(1, 0));
  EXPECT_EQ(spans[1].key, step_record_key(0, 0));
  // From the first compute op's start (tick 6) to the second one's end (137).
  EXPECT_EQ(spans[1].begin_us, 6u);
  EXPECT_EQ(spans[1].duration_us, 131u);
  EXPECT_EQ(spans[2].key, step_record_key(2, 1));
  EXPECT_EQ(spans[3].key, step_record_key(0, 1));
  ASSERT_EQ(timer.clock_count(), 2u);
  EXPECT_EQ(clocks[0].step, 0u);
  EXPECT_EQ(clocks[0].ticks, 130u);  // the two ops' own ticks, not the gap between them
  EXPECT_EQ(clocks[1].step, 1u);
  EXPECT_EQ(clocks[1].ticks, 40u);
  EXPECT_EQ(timer.compute_us(), 170u);
  EXPECT_EQ(timer.wait_us(), 12u);
}

TEST(RunTimer, AComputeOpOfAnotherStepOrAfterAnotherKindStartsANewRecord) {
  ManualClock clock;
  std::vector<SpanRecord> spans(8);
  std::vector<ComputeClockRecord> clocks(8);
  RunTimer timer(clock, RunRecords{spans.data(), 8, clocks.data(), 8});
  run(timer, clock, {{kCompute, 2, 10}, {kCompute, 3, 20}, {kSend, 3, 1}, {kCompute, 3, 30}});
  EXPECT_EQ(timer.span_count(), 4u);
  ASSERT_EQ(timer.clock_count(), 3u);
  EXPECT_EQ(clocks[0].ticks, 10u);
  EXPECT_EQ(clocks[1].ticks, 20u);
  EXPECT_EQ(clocks[2].ticks, 30u);
  EXPECT_EQ(clocks[2].step, 3u);
}

TEST(RunTimer, RecordsBeyondTheCapacityAreDroppedButCounted) {
  ManualClock clock;
  std::vector<SpanRecord> spans(2);
  std::vector<ComputeClockRecord> clocks(1);
  RunTimer timer(clock, RunRecords{spans.data(), 2, clocks.data(), 1});
  // The last op has the key of the last span kept (compute, step 0), but it
  // does not follow it: it must not stretch that span.
  run(timer, clock,
      {{kCompute, 0, 10}, {kSend, 0, 3}, {kCompute, 1, 20}, {kCompute, 1, 5}, {kCompute, 0, 8}});
  ASSERT_EQ(timer.span_count(), 2u);
  EXPECT_EQ(spans[0].key, step_record_key(0, 0));
  EXPECT_EQ(spans[0].duration_us, 10u);
  EXPECT_EQ(spans[1].key, step_record_key(2, 0));
  EXPECT_EQ(spans[1].duration_us, 3u);
  ASSERT_EQ(timer.clock_count(), 1u);
  EXPECT_EQ(clocks[0].ticks, 10u);
  EXPECT_EQ(timer.compute_us(), 43u);
  EXPECT_EQ(timer.wait_us(), 3u);
}

TEST(RunTimer, AClockWithoutComputeRecordsWritesNone) {
  ManualClock clock;
  clock.records = false;
  std::vector<SpanRecord> spans(4);
  RunTimer timer(clock, RunRecords{spans.data(), 4, nullptr, 0});
  run(timer, clock, {{kCompute, 0, 10}, {kCompute, 0, 10}});
  EXPECT_EQ(timer.span_count(), 1u);
  EXPECT_EQ(timer.clock_count(), 0u);
  // start() begins a new run: the counts start again.
  run(timer, clock, {{kSend, 0, 1}});
  EXPECT_EQ(timer.span_count(), 1u);
  EXPECT_EQ(spans[0].key, step_record_key(2, 0));
}

}  // namespace
}  // namespace mcusplit::device
