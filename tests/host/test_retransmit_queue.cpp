// The bridge's sending end of a lossy stream (host/retransmit_queue.h): the
// window, go-back-N when the oldest frame's timer is due, backoff, progress
// by cumulative Acks, a dead link after no progress.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "device/link_reliability.h"
#include "host/retransmit_queue.h"

namespace mcusplit::host {
namespace {

// Each frame is one byte: its sequence number.
class Sent {
 public:
  RetransmitQueue::Send sink() {
    return [this](const std::vector<uint8_t>& f) { frames.push_back(f.at(0)); };
  }
  std::vector<int> take() {
    std::vector<int> out = frames;
    frames.clear();
    return out;
  }
  std::vector<int> frames;
};

void push(RetransmitQueue& q, uint32_t first, uint32_t count) {
  for (uint32_t s = first; s < first + count; ++s) q.push(s, {static_cast<uint8_t>(s)});
}

TEST(RetransmitQueue, KeepsAWindowInFlightAndGoesBackNWhenDue) {
  RetransmitQueue q(4);
  Sent sent;
  push(q, 0, 6);
  q.pump(1000, sent.sink());
  EXPECT_EQ(sent.take(), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(q.wait_ms(1000), device::kInitialRetransmitMs);
  q.pump(1000 + device::kInitialRetransmitMs - 1, sent.sink());
  EXPECT_TRUE(sent.take().empty());
  // Frame 1 was lost: the Ack of 0 pops frame 0 and admits frame 4.
  EXPECT_EQ(q.acknowledge(0, 1005), 1u);
  q.pump(1005, sent.sink());
  EXPECT_EQ(sent.take(), (std::vector<int>{4}));
  // No Ack of 1 in time: everything in flight again, in order.
  q.pump(1005 + device::kInitialRetransmitMs, sent.sink());
  EXPECT_EQ(sent.take(), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(q.retransmissions(), 4);
  // Then twice as long.
  EXPECT_EQ(q.wait_ms(1025), 2 * device::kInitialRetransmitMs);
  // A stale Ack (a duplicate's answer) makes no progress.
  EXPECT_EQ(q.acknowledge(0, 1030), 0u);
  EXPECT_EQ(q.acknowledge(4, 1030), 4u);
  q.pump(1030, sent.sink());
  EXPECT_EQ(sent.take(), (std::vector<int>{5}));
  EXPECT_EQ(q.acknowledge(5, 1031), 1u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.wait_ms(1031), -1);
}

TEST(RetransmitQueue, AnAckOfNothingHeldCoversNoFrame) {
  RetransmitQueue q(2);
  Sent sent;
  push(q, 0, 2);
  q.pump(0, sent.sink());
  // A receiver that holds nothing yet answers 0xFFFFFFFF.
  EXPECT_EQ(q.acknowledge(0xFFFFFFFFu, 1), 0u);
  EXPECT_FALSE(q.empty());
}

TEST(RetransmitQueue, SequencesWrapAround) {
  RetransmitQueue q(4);
  Sent sent;
  q.push(0xFFFFFFFEu, {1});
  q.push(0xFFFFFFFFu, {2});
  q.push(0, {3});
  q.pump(0, sent.sink());
  EXPECT_EQ(sent.take(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.acknowledge(0xFFFFFFFFu, 1), 2u);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.acknowledge(0, 2), 1u);
  EXPECT_TRUE(q.empty());
}

TEST(RetransmitQueue, NoProgressForTheLimitIsADeadLink) {
  RetransmitQueue q(4);
  Sent sent;
  EXPECT_FALSE(q.dead(0, 100));  // nothing in flight: nothing to be dead about
  push(q, 0, 1);
  q.pump(0, sent.sink());
  uint32_t now = 0;
  while (!q.dead(now, 1000)) {
    now += 10;
    q.pump(now, sent.sink());
  }
  EXPECT_EQ(now, 1000u);
  // Sent again 20, 40, 80, 160 and 320 ms apart: at 20, 60, 140, 300 and 620.
  EXPECT_EQ(q.retransmissions_since_progress(), 5);
  EXPECT_LE(q.wait_ms(now), static_cast<int64_t>(device::kMaxRetransmitMs));
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.dead(now, 1000));
}

}  // namespace
}  // namespace mcusplit::host
