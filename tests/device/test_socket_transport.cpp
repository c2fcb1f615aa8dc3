// host::SocketTransport over a socket pair: whole boxes chunked at the max
// payload, receive timeouts, and frames the protocol forbids (another plan's
// hash, a sequence gap, a closed link) failing instead of hanging.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "device/frame_codec.h"
#include "host/socket_transport.h"

namespace mcusplit::host {
namespace {

using device::MessageHeader;
using device::MessageType;
using device::TransportStatus;
using std::chrono::milliseconds;

constexpr uint64_t kHash = 0x1234abcd5678ef00ull;

Clock::time_point soon() {
  return Clock::now() + milliseconds(2000);
}

// Participant 0 (connects) and 1 (accepts) linked by a socket pair.
struct Pair {
  explicit Pair(uint64_t hash0 = kHash, uint64_t hash1 = kHash, uint32_t max_payload = 100)
      : a(milliseconds(200)), b(milliseconds(200)) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a.set_self(0);
    b.set_self(1);
    a.set_plan_hash(hash0, 0);
    b.set_plan_hash(hash1, 0);
    a.set_max_payload(max_payload);
    b.set_max_payload(max_payload);
    std::thread accept([&] { EXPECT_EQ(b.accept_peer(UniqueFd(fds[1]), soon()), 0); });
    a.connect_peer(1, UniqueFd(fds[0]), soon());
    accept.join();
    a.set_plan_hash(hash0, hash1);
    b.set_plan_hash(hash1, hash0);
  }
  SocketTransport a;
  SocketTransport b;
};

MessageHeader box_header(int source, int destination, const core::Box& box) {
  MessageHeader h;
  h.source = source;
  h.destination = destination;
  h.tensor = 3;
  h.box = box;
  h.payload_bytes = box.volume();
  return h;
}

TEST(SocketTransport, ChunksABoxAtTheMaxPayloadAndReassemblesIt) {
  Pair p;
  const core::Box box{0, 10, 2, 7, 0, 20};  // 1000 bytes: 10 frames of 100
  std::vector<int8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<int8_t>(i * 7);
  p.a.reset_counters();
  ASSERT_EQ(p.a.send(box_header(0, 1, box), data.data()), TransportStatus::Ok);
  EXPECT_EQ(p.a.counters().frames_sent, 10);
  EXPECT_EQ(p.a.counters().bulk_bytes_sent, 1000);
  MessageHeader got;
  std::vector<int8_t> out(1000);
  ASSERT_EQ(p.b.receive(0, &got, out.data(), 1000), TransportStatus::Ok);
  EXPECT_EQ(got.source, 0);
  EXPECT_EQ(got.tensor, 3);
  EXPECT_EQ(got.payload_bytes, 1000);
  EXPECT_EQ(out, data);
}

TEST(SocketTransport, BothSidesSendingLargeBoxesAtOnceDoNotDeadlock) {
  Pair p(kHash, kHash, 1372);
  // Larger than the socket buffers: each send must drain the other side.
  const core::Box box{0, 64, 0, 128, 0, 128};
  std::vector<int8_t> data(static_cast<size_t>(box.volume()), 5);
  std::vector<int8_t> out_a(data.size());
  std::vector<int8_t> out_b(data.size());
  TransportStatus sa = TransportStatus::Failed;
  TransportStatus ra = TransportStatus::Failed;
  std::thread other([&] {
    sa = p.a.send(box_header(0, 1, box), data.data());
    MessageHeader h;
    ra = p.a.receive(1, &h, out_a.data(), static_cast<int64_t>(out_a.size()));
  });
  EXPECT_EQ(p.b.send(box_header(1, 0, box), data.data()), TransportStatus::Ok);
  MessageHeader h;
  EXPECT_EQ(p.b.receive(0, &h, out_b.data(), static_cast<int64_t>(out_b.size())),
            TransportStatus::Ok);
  other.join();
  EXPECT_EQ(sa, TransportStatus::Ok);
  EXPECT_EQ(ra, TransportStatus::Ok);
  EXPECT_EQ(out_a, data);
  EXPECT_EQ(out_b, data);
}

TEST(SocketTransport, ReceiveTimesOut) {
  Pair p;
  MessageHeader h;
  int8_t buf[4];
  const auto start = Clock::now();
  EXPECT_EQ(p.b.receive(0, &h, buf, 4), TransportStatus::Timeout);
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, milliseconds(190));
  EXPECT_LT(waited, milliseconds(1500));
}

TEST(SocketTransport, FramesOfAnotherPlanAreRefused) {
  Pair p(kHash, kHash + 1);
  const core::Box box{0, 1, 0, 1, 0, 4};
  const int8_t data[4] = {1, 2, 3, 4};
  // b expects a's frames to carry kHash + 1.
  p.a.set_plan_hash(kHash, kHash + 1);
  p.b.set_plan_hash(kHash + 1, kHash + 1);
  ASSERT_EQ(p.a.send(box_header(0, 1, box), data), TransportStatus::Ok);
  MessageHeader h;
  int8_t buf[4];
  EXPECT_EQ(p.b.receive(0, &h, buf, 4), TransportStatus::Failed);
  EXPECT_NE(p.b.error().find("wrong plan hash"), std::string::npos) << p.b.error();
}

TEST(SocketTransport, SequenceGapAndClosedLinkFail) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  SocketTransport b(milliseconds(500));
  b.set_self(1);
  // A raw peer: Ping with sequence 0, then Data with sequence 5.
  const auto write_frame = [&](MessageType type, uint32_t sequence, const core::Box& box,
                               const uint8_t* payload, uint32_t n) {
    device::FrameHeader h;
    h.type = type;
    h.source = 0;
    h.destination = 1;
    h.sequence = sequence;
    h.box = box;
    h.message_bytes = n;
    h.payload_bytes = n;
    if (type == MessageType::Data) h.inference_id = device::kNoInference;
    std::vector<uint8_t> frame(device::frame_bytes_for(n));
    const size_t size = device::encode_frame(h, payload, frame.data(), frame.size());
    ASSERT_GT(size, 0u);
    ASSERT_EQ(::write(fds[0], frame.data(), size), static_cast<ssize_t>(size));
  };
  write_frame(MessageType::Ping, 0, core::Box{}, nullptr, 0);
  ASSERT_EQ(b.accept_peer(UniqueFd(fds[1]), soon()), 0);
  const uint8_t data[2] = {1, 2};
  write_frame(MessageType::Data, 5, core::Box{0, 1, 0, 1, 0, 2}, data, 2);
  MessageHeader h;
  int8_t buf[2];
  EXPECT_EQ(b.receive(0, &h, buf, 2), TransportStatus::Failed);
  EXPECT_NE(b.error().find("sequence gap"), std::string::npos) << b.error();

  int more[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, more), 0);
  SocketTransport c(milliseconds(5000));
  c.set_self(1);
  ::close(fds[0]);
  fds[0] = more[0];
  write_frame(MessageType::Ping, 0, core::Box{}, nullptr, 0);
  ASSERT_EQ(c.accept_peer(UniqueFd(more[1]), soon()), 0);
  ::close(fds[0]);
  const auto start = Clock::now();
  EXPECT_EQ(c.receive(0, &h, buf, 2), TransportStatus::Failed);
  EXPECT_LT(Clock::now() - start, milliseconds(1000));  // at once, not at the timeout
  EXPECT_NE(c.error().find("closed"), std::string::npos) << c.error();
}

}  // namespace
}  // namespace mcusplit::host
