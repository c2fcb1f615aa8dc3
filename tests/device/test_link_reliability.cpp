// The acknowledgement and retransmission rules of lossy links
// (device/link_reliability.h) and the Ethernet link layer's header checks
// (device/ethernet_frame.h), shared by the firmware and the host bridge.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "device/ethernet_frame.h"
#include "device/frame_codec.h"
#include "device/inbound_dispatcher.h"
#include "device/link_reliability.h"

namespace mcusplit::device {
namespace {

TEST(LinkReliability, ArrivalAgainstTheExpectedSequence) {
  EXPECT_EQ(classify_arrival(5, 5), Arrival::New);
  EXPECT_EQ(classify_arrival(4, 5), Arrival::Duplicate);
  EXPECT_EQ(classify_arrival(0, 5), Arrival::Duplicate);
  EXPECT_EQ(classify_arrival(6, 5), Arrival::Ahead);
  // Across the wrap of 32-bit sequence numbers.
  EXPECT_EQ(classify_arrival(0xFFFFFFFFu, 0), Arrival::Duplicate);
  EXPECT_EQ(classify_arrival(0, 0xFFFFFFFFu), Arrival::Ahead);
  EXPECT_EQ(classify_arrival(0x80000000u, 0), Arrival::Duplicate);  // half the space back
  EXPECT_EQ(classify_arrival(0x7FFFFFFFu, 0), Arrival::Ahead);
}

TEST(LinkReliability, CumulativeAcks) {
  EXPECT_TRUE(acknowledges(7, 7));
  EXPECT_TRUE(acknowledges(7, 3));
  EXPECT_FALSE(acknowledges(6, 7));
  EXPECT_TRUE(acknowledges(2, 0xFFFFFFFEu));    // wrapped
  EXPECT_FALSE(acknowledges(0xFFFFFFFFu, 0));  // "nothing held yet" acknowledges nothing
}

TEST(LinkReliability, RetransmitTimerBacksOffAndGivesUp) {
  RetransmitTimer t;
  t.restart(1000);
  EXPECT_FALSE(t.due(1000 + kInitialRetransmitMs - 1));
  EXPECT_EQ(t.wait_ms(1005), kInitialRetransmitMs - 5);
  EXPECT_TRUE(t.due(1000 + kInitialRetransmitMs));
  // Each retry waits twice as long, up to the cap.
  uint32_t now = 1000 + kInitialRetransmitMs;
  uint32_t interval = kInitialRetransmitMs;
  std::vector<uint32_t> intervals;
  for (int i = 0; i < 8; ++i) {
    t.backoff(now);
    interval = interval * 2 > kMaxRetransmitMs ? kMaxRetransmitMs : interval * 2;
    EXPECT_FALSE(t.due(now + interval - 1));
    EXPECT_TRUE(t.due(now + interval));
    now += interval;
    intervals.push_back(interval);
  }
  EXPECT_EQ(intervals.back(), kMaxRetransmitMs);
  // No progress since the first transmission: dead after the limit.
  EXPECT_FALSE(t.dead(1000 + 4999, 5000));
  EXPECT_TRUE(t.dead(1000 + 5000, 5000));
  // Progress starts both clocks over (and survives the millisecond wrap).
  t.restart(0xFFFFFFF0u);
  EXPECT_FALSE(t.due(0xFFFFFFF0u + kInitialRetransmitMs - 1));
  EXPECT_TRUE(t.due(0xFFFFFFF0u + kInitialRetransmitMs));
  EXPECT_FALSE(t.dead(5, 5000));
}

TEST(LinkReliability, DispatcherTellsTheAckToSend) {
  InboundDispatcher in;
  in.set_self(1);
  in.set_participants(3);
  FrameHeader h;
  h.type = MessageType::Ping;
  h.source = 0;
  h.destination = 1;
  h.sequence = 0;
  EXPECT_EQ(in.arrival(h), Arrival::New);
  EXPECT_EQ(in.held_through(0), 0xFFFFFFFFu);  // nothing held yet
  EXPECT_EQ(in.accept(h, nullptr, false).kind, InboundKind::Control);
  EXPECT_EQ(in.held_through(0), 0u);
  EXPECT_EQ(in.arrival(h), Arrival::Duplicate);  // the same frame again
  h.sequence = 2;
  EXPECT_EQ(in.arrival(h), Arrival::Ahead);  // 1 was lost
  h.source = 2;
  h.sequence = 0;
  EXPECT_EQ(in.arrival(h), Arrival::New);  // streams are per source
}

TEST(LinkReliability, RoundTripQuantilesSettleWhereTheirShareOfSamplesLies) {
  RoundTripQuantile p10(10);
  RoundTripQuantile median(50);
  uint32_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 1103515245u + 12345u;  // a fixed pseudo-random stream, 0..9999 us
    const uint32_t sample = (x >> 8) % 10000;
    p10.add(sample);
    median.add(sample);
  }
  EXPECT_EQ(p10.samples(), 20000u);
  EXPECT_NEAR(static_cast<double>(p10.estimate_us()), 1000, 400);
  EXPECT_NEAR(static_cast<double>(median.estimate_us()), 5000, 600);
}

TEST(EthernetFrame, MacText) {
  MacAddress m;
  ASSERT_TRUE(parse_mac("02:6d:73:00:01:0A", 17, &m));
  const uint8_t want[] = {0x02, 0x6d, 0x73, 0x00, 0x01, 0x0a};
  for (size_t i = 0; i < kMacBytes; ++i) EXPECT_EQ(m.bytes[i], want[i]);
  EXPECT_FALSE(parse_mac("02:6d:73:00:01:0", 16, &m));
  EXPECT_FALSE(parse_mac("02-6d-73-00-01-0a", 17, &m));
  EXPECT_FALSE(parse_mac("02:6d:73:00:01:0g", 17, &m));
  EXPECT_FALSE(parse_mac("02:6d:73:00:01:0a ", 18, &m));
}

TEST(EthernetFrame, HeaderChecks) {
  MacAddress self;
  MacAddress other;
  ASSERT_TRUE(parse_mac("02:6d:73:00:01:01", 17, &self));
  ASSERT_TRUE(parse_mac("02:6d:73:00:00:fe", 17, &other));
  std::vector<uint8_t> f(kEthernetHeaderBytes + kHeaderBytes + kCrcBytes);
  encode_ethernet_header(self, other, f.data());
  EXPECT_EQ(f[12], 0x88);
  EXPECT_EQ(f[13], 0xB5);
  EXPECT_EQ(check_ethernet_header(f.data(), f.size(), self), EthernetVerdict::Ok);
  EXPECT_TRUE(source_mac(f.data()) == other);
  EXPECT_EQ(check_ethernet_header(f.data(), f.size(), other), EthernetVerdict::NotAddressed);
  EXPECT_EQ(check_ethernet_header(f.data(), kEthernetHeaderBytes + kHeaderBytes - 1, self),
            EthernetVerdict::Short);
  f[13] = 0xB6;
  EXPECT_EQ(check_ethernet_header(f.data(), f.size(), self), EthernetVerdict::WrongType);
}

}  // namespace
}  // namespace mcusplit::device
