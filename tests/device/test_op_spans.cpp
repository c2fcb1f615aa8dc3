// Span and compute clock records (docs/protocol.md, Stats): encoding,
// decoding, and the instruction counts derived from a firmware's clock
// under QEMU's -icount.
#include <gtest/gtest.h>

#include "device/frame_codec.h"
#include "device/protocol.h"
#include "host/op_spans.h"
#include "host/stats_message.h"

namespace mcusplit::host {
namespace {

std::vector<uint8_t> records(const std::vector<std::pair<uint32_t, uint64_t>>& list) {
  std::vector<uint8_t> body(list.size() * device::kStatRecordBytes);
  for (size_t i = 0; i < list.size(); ++i) {
    device::store_le32(body.data() + i * device::kStatRecordBytes, list[i].first);
    device::store_le64(body.data() + i * device::kStatRecordBytes + 4, list[i].second);
  }
  return body;
}

TEST(OpSpans, SpansRoundTripThroughStatsBodies) {
  const std::vector<Span> spans{{SpanKind::Compute, 3, 10, 20},
                                {SpanKind::Receive, 4, 30, 5},
                                {SpanKind::Other, 0x00FFFFFF, 0, 1}};
  std::vector<Span> back;
  for (const auto& body : encode_span_stats(spans, 2 * device::kStatRecordBytes)) {
    EXPECT_LE(body.size(), 2 * device::kStatRecordBytes);
    decode_span_stats(body, &back);
  }
  ASSERT_EQ(back.size(), spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    EXPECT_EQ(back[i].kind, spans[i].kind);
    EXPECT_EQ(back[i].step, spans[i].step);
    EXPECT_EQ(back[i].begin_us, spans[i].begin_us);
    EXPECT_EQ(back[i].duration_us, spans[i].duration_us);
  }
}

TEST(OpSpans, ComputeClockRecordsAreNeitherSpansNorStatKeys) {
  const std::vector<uint8_t> body =
      records({{device::step_record_key(0, 2), (uint64_t{7} << 32) | 9},
               {device::compute_clock_key(2), 3200},
               {device::compute_clock_key(5), 6400},
               {static_cast<uint32_t>(device::StatKey::ClockHz), 25'000'000}});
  std::vector<Span> spans;
  decode_span_stats(body, &spans);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].step, 2);
  std::vector<ComputeClock> clocks;
  decode_compute_clocks(body, &clocks);
  ASSERT_EQ(clocks.size(), 2u);
  EXPECT_EQ(clocks[0].step, 2);
  EXPECT_EQ(clocks[0].ticks, 3200u);
  EXPECT_EQ(clocks[1].step, 5);
  EXPECT_EQ(clocks[1].ticks, 6400u);
  const StatRecords stats = decode_stats(body);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats.at(device::StatKey::ClockHz), 25'000'000u);
}

// At 25 MHz (40 ns ticks) and shift 7 (128 ns per instruction) an op of n
// instructions lasts 3.2 n ticks; reading the clock at both ends loses up to
// one tick either way, which must still give n.
TEST(OpSpans, InstructionsAreExactDespiteATickOfReadingError) {
  for (const int64_t n : {1, 2, 3, 1000, 123457, 40'000'000}) {
    const auto exact = static_cast<uint64_t>(n * 16 / 5);  // floor(3.2 n)
    for (const uint64_t ticks : {exact, exact + 1}) {
      const std::vector<int64_t> steps = step_instructions({{1, ticks}}, 25'000'000, 7, 3);
      EXPECT_EQ(steps[1], n) << ticks << " ticks";
    }
  }
}

TEST(OpSpans, InstructionsAddUpPerStepAndIgnoreStrangers) {
  // Two ops in step 0 (3200 and 6400 ticks: 1000 and 2000 instructions), one
  // record of a step the plan does not have.
  const std::vector<ComputeClock> clocks{{0, 3200}, {0, 6400}, {2, 32}, {9, 3200}};
  const std::vector<int64_t> steps = step_instructions(clocks, 25'000'000, 7, 3);
  EXPECT_EQ(steps, (std::vector<int64_t>{3000, 0, 10}));
  // No clock rate sent (a host worker): nothing to count.
  EXPECT_EQ(step_instructions(clocks, 0, 7, 3), (std::vector<int64_t>{0, 0, 0}));
}

}  // namespace
}  // namespace mcusplit::host
