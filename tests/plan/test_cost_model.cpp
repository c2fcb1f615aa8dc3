// The cost model's transfer time (plan/cost_model.h): streaming links as
// before, and links whose sender waits for an Ack after every frames window
// (the Ethernet firmware), figures worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "plan/cost_model.h"
#include "plan/devices_shorthand.h"
#include "plan/plan.h"
#include "plan/planner.h"
#include "random_models.h"

namespace mcusplit::plan {
namespace {

Plan two_devices(Topology topology, int64_t window, double ack_round_trip_s) {
  Plan p;
  p.cluster.topology = topology;
  for (const char* name : {"a", "b"}) {
    DeviceSpec d;
    d.name = name;
    d.ram_bytes = 1 << 20;
    d.flash_bytes = 1 << 20;
    d.macs_per_second = 1e8;
    d.link_bits_per_second = 1e7;
    d.link_latency_s = 0;
    d.link_frame_overhead_bytes = 90;
    d.link_window_frames = window;
    d.link_ack_round_trip_s = ack_round_trip_s;
    p.cluster.devices.push_back(d);
  }
  p.coordinator_spec.link_bits_per_second = 1e9;
  p.coordinator_spec.link_latency_s = 0;
  p.max_payload_bytes = 1372;
  return p;
}

TEST(CostModel, AStreamingLinkTakesItsBytesAtTheSlowestRate) {
  const Plan p = two_devices(Topology::Switched, 0, 0.001);
  // 2 frames of 1,372 bytes and 90 of overhead each at 10 Mbit/s.
  EXPECT_NEAR(transfer_seconds(p, 0, 1, 2744), (2744 + 2 * 90) * 8 / 1e7, 1e-12);
}

TEST(CostModel, AWindowOfOneFrameCrossesEveryLinkThenWaitsForItsAck) {
  const Plan p = two_devices(Topology::Switched, 1, 0.001);
  // Per frame: 1,462 bytes across both device links (1.1696 ms each), the
  // 94-byte Ack back across both (0.0752 ms each), the 1 ms round trip.
  const double per_frame = 2 * 1462 * 8 / 1e7 + 2 * 94 * 8 / 1e7 + 0.001;
  EXPECT_NEAR(transfer_seconds(p, 0, 1, 2744), 2 * per_frame, 1e-12);
  // To the coordinator (1 Gbit/s): the device's link is the slow one.
  const double to_coordinator =
      1462 * 8 / 1e7 + 1462 * 8 / 1e9 + 94 * 8 / 1e7 + 94 * 8 / 1e9 + 0.001;
  EXPECT_NEAR(transfer_seconds(p, 0, 2, 1372), to_coordinator, 1e-12);
  // From the coordinator, which streams: only the bytes at the slowest rate.
  EXPECT_NEAR(transfer_seconds(p, 2, 0, 1372), (1372 + 90) * 8 / 1e7, 1e-12);
}

TEST(CostModel, AWindowOfOneFrameInTheStarAlsoCrossesTheCoordinator) {
  const Plan p = two_devices(Topology::Star, 1, 0.0005);
  const double path = 8 / 1e7 + 8 / 1e9 + 8 / 1e7;  // seconds per byte, link after link
  EXPECT_NEAR(transfer_seconds(p, 0, 1, 1372), 1462 * path + 94 * path + 0.0005, 1e-12);
}

TEST(CostModel, AWindowOfTwoPaysOneRoundTripPerTwoFrames) {
  const Plan one = two_devices(Topology::Switched, 1, 0.001);
  const Plan two = two_devices(Topology::Switched, 2, 0.001);
  const int64_t bytes = 4 * 1372;
  // Half the groups: the saving is two round trips and two extra crossings.
  const double saved = transfer_seconds(one, 0, 1, bytes) - transfer_seconds(two, 0, 1, bytes);
  EXPECT_NEAR(saved, 2 * (0.001 + 1462 * 8 / 1e7 + 2 * 94 * 8 / 1e7), 1e-12);
}

// A random CNN planned on 4 teensy41: a participant's frames (Data chunks,
// and one Credit frame per peer it receives from in each step).
int64_t frames_sent(const Plan& plan, int p) {
  const ParticipantPlan& pp = plan.participants[static_cast<size_t>(p)];
  int64_t frames = 0;
  for (const PlanOp& op : pp.ops) {
    if (op.kind == OpKind::Send) {
      frames += (op.box.volume() + plan.max_payload_bytes - 1) / plan.max_payload_bytes;
    }
  }
  for (size_t first = 0; first < pp.ops.size();) {
    size_t end = 0;
    frames += static_cast<int64_t>(step_receive_peers(pp, first, &end).size());
    first = end;
  }
  return frames;
}

TEST(CostModel, OnAcknowledgedLinksEveryFrameADeviceSendsCostsItARoundTrip) {
  const quant::QGraph g = testing::random_cnn(11);
  PlanOptions o;
  o.search_min_count = false;
  const Plan planned = make_plan(g, parse_devices_shorthand("4xteensy41"), o);
  // Over streaming links a round trip is never waited for.
  Plan streaming = planned;
  for (DeviceSpec& d : streaming.cluster.devices) d.link_ack_round_trip_s = 0.002;
  estimate_timing(streaming, g);
  EXPECT_EQ(streaming.estimated_latency_s, planned.estimated_latency_s);
  // A window of one frame: each device sends its frames one after the
  // other, each then waiting 2 ms for its Ack, so it finishes no earlier
  // than the round trips of all its frames but the last (its clock does not
  // wait for a send's Ack: it may compute meanwhile); and later than
  // without them.
  Plan acknowledged = planned;
  for (DeviceSpec& d : acknowledged.cluster.devices) {
    d.link_window_frames = 1;
    d.link_ack_round_trip_s = 0.002;
  }
  estimate_timing(acknowledged, g);
  Plan no_round_trip = acknowledged;
  for (DeviceSpec& d : no_round_trip.cluster.devices) d.link_ack_round_trip_s = 0;
  estimate_timing(no_round_trip, g);
  int64_t most = 0;
  for (int p = 0; p < acknowledged.device_count(); ++p) {
    const int64_t frames = frames_sent(acknowledged, p);
    most = std::max(most, frames);
    EXPECT_GE(acknowledged.participants[static_cast<size_t>(p)].estimate.finish_s + 1e-12,
              0.002 * static_cast<double>(frames - 1))
        << "device " << p;
  }
  EXPECT_GT(most, 0);
  EXPECT_GT(acknowledged.estimated_latency_s, no_round_trip.estimated_latency_s);
}


TEST(CostModel, EachKernelIsChargedAtItsDevicesRateForIt) {
  const quant::QGraph g = testing::random_cnn(11);
  PlanOptions o;
  o.search_min_count = false;
  Plan plan = make_plan(g, parse_devices_shorthand("4xteensy41"), o);
  // The kernel of device 0's first compute, 100 times slower than the rest.
  std::string slow;
  for (const PlanOp& op : plan.participants[0].ops) {
    if (op.kind == OpKind::Compute) {
      slow = op_work(g, plan.participants[0], op).kernel;
      break;
    }
  }
  ASSERT_FALSE(slow.empty());
  for (DeviceSpec& d : plan.cluster.devices) d.kernel_rates = {{slow, d.macs_per_second / 100}};
  const Plan before = plan;
  estimate_timing(plan, g);
  for (int p = 0; p < plan.device_count(); ++p) {
    const ParticipantPlan& pp = plan.participants[static_cast<size_t>(p)];
    const DeviceSpec& d = plan.cluster.devices[static_cast<size_t>(p)];
    double expected = 0;
    double slow_work = 0;
    for (const PlanOp& op : pp.ops) {
      const OpWork w = op_work(g, pp, op);
      const double rate = w.kernel == slow ? d.macs_per_second / 100 : d.macs_per_second;
      expected += static_cast<double>(w.counts.work) / rate;
      if (w.kernel == slow) slow_work += static_cast<double>(w.counts.work);
    }
    EXPECT_NEAR(pp.estimate.compute_s, expected, expected * 1e-12) << "device " << p;
    if (p == 0) {
      EXPECT_GT(slow_work, 0);
    }
  }
  EXPECT_GT(plan.estimated_latency_s, before.estimated_latency_s);
}

}  // namespace
}  // namespace mcusplit::plan
