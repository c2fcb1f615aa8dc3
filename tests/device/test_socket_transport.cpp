// host::SocketTransport over socket pairs: boxes as chunks of at most the max
// payload, credit grants, the star relay, poll timeouts, and frames the
// protocol forbids (another plan's hash, a sequence gap, a closed link)
// failing instead of hanging.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "device/frame_codec.h"
#include "host/socket_transport.h"

namespace mcusplit::host {
namespace {

using device::ChunkHeader;
using device::LinkEvent;
using device::LinkEventKind;
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

// Sends a whole box as chunks of the transport's max payload (credit is the
// runtime's business, not the transport's).
TransportStatus send_box(SocketTransport& t, int destination, const core::Box& box,
                         const std::vector<int8_t>& data) {
  ChunkHeader c;
  c.source = t.self();
  c.destination = destination;
  c.tensor = 3;
  c.box = box;
  c.message_bytes = box.volume();
  for (int64_t offset = 0; offset < c.message_bytes; offset += t.max_payload()) {
    c.chunk_offset = offset;
    c.payload_bytes =
        static_cast<int32_t>(std::min<int64_t>(t.max_payload(), c.message_bytes - offset));
    const TransportStatus s = t.send_chunk(c, data.data() + offset);
    if (s != TransportStatus::Ok) return s;
  }
  return TransportStatus::Ok;
}

// Polls until a whole box from `source` is in `out`; credit events are
// counted in `*credit` (when given).
TransportStatus receive_box(SocketTransport& t, int source, std::vector<int8_t>* out,
                            int64_t* credit = nullptr) {
  std::vector<int8_t> frame(static_cast<size_t>(t.max_payload()));
  int64_t got = 0;
  while (got < static_cast<int64_t>(out->size())) {
    LinkEvent e;
    const TransportStatus s = t.poll(&e, frame.data(), t.max_payload());
    if (s != TransportStatus::Ok) return s;
    if (e.kind == LinkEventKind::Credit) {
      if (credit != nullptr) *credit += e.credit_bytes;
      continue;
    }
    EXPECT_EQ(e.chunk.source, source);
    EXPECT_EQ(e.chunk.tensor, 3);
    EXPECT_EQ(e.chunk.chunk_offset, got);
    EXPECT_EQ(e.chunk.message_bytes, static_cast<int64_t>(out->size()));
    std::copy(frame.begin(), frame.begin() + e.chunk.payload_bytes, out->begin() + got);
    got += e.chunk.payload_bytes;
  }
  return TransportStatus::Ok;
}

TEST(SocketTransport, CarriesABoxInChunksOfTheMaxPayload) {
  Pair p;
  const core::Box box{0, 10, 2, 7, 0, 20};  // 1000 bytes: 10 frames of 100
  std::vector<int8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<int8_t>(i * 7);
  p.a.reset_counters();
  ASSERT_EQ(send_box(p.a, 1, box, data), TransportStatus::Ok);
  EXPECT_EQ(p.a.counters().frames_sent, 10);
  EXPECT_EQ(p.a.counters().bulk_bytes_sent, 1000);
  std::vector<int8_t> out(1000);
  ASSERT_EQ(receive_box(p.b, 0, &out), TransportStatus::Ok);
  EXPECT_EQ(out, data);
  // A chunk over the max payload is refused before it reaches the wire.
  ChunkHeader c;
  c.source = 0;
  c.destination = 1;
  c.tensor = 3;
  c.box = box;
  c.message_bytes = 1000;
  c.payload_bytes = 101;
  EXPECT_EQ(p.a.send_chunk(c, data.data()), TransportStatus::PayloadTooLarge);
}

TEST(SocketTransport, CreditGrantsArriveAsEvents) {
  Pair p;
  ASSERT_EQ(p.b.grant_credit(0, 1234), TransportStatus::Ok);
  ASSERT_EQ(p.b.grant_credit(0, int64_t{5} << 32), TransportStatus::Ok);  // split in u32 grants
  int64_t credit = 0;
  std::vector<int8_t> frame(100);
  while (credit < 1234 + (int64_t{5} << 32)) {
    LinkEvent e;
    ASSERT_EQ(p.a.poll(&e, frame.data(), 100), TransportStatus::Ok);
    ASSERT_EQ(e.kind, LinkEventKind::Credit);
    EXPECT_EQ(e.peer, 1);
    credit += e.credit_bytes;
  }
  EXPECT_EQ(credit, 1234 + (int64_t{5} << 32));
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
    sa = send_box(p.a, 1, box, data);
    ra = receive_box(p.a, 1, &out_a);
  });
  EXPECT_EQ(send_box(p.b, 0, box, data), TransportStatus::Ok);
  EXPECT_EQ(receive_box(p.b, 0, &out_b), TransportStatus::Ok);
  other.join();
  EXPECT_EQ(sa, TransportStatus::Ok);
  EXPECT_EQ(ra, TransportStatus::Ok);
  EXPECT_EQ(out_a, data);
  EXPECT_EQ(out_b, data);
}

// Star: devices 0 and 1 linked only to the coordinator (2), which relays
// their Data and Credit frames unchanged, end-to-end sequence numbers and all.
TEST(SocketTransport, TheCoordinatorRelaysFramesBetweenDevicesInTheStar) {
  SocketTransport d0(milliseconds(2000));
  SocketTransport d1(milliseconds(2000));
  SocketTransport hub(milliseconds(2000));
  hub.set_self(2);
  hub.set_relay(true);
  for (SocketTransport* t : {&d0, &d1, &hub}) {
    t->set_plan_hash(kHash, kHash);
    t->set_max_payload(100);
  }
  d0.set_self(0);
  d1.set_self(1);
  d0.set_route(1, 2);
  d1.set_route(0, 2);
  for (int device = 0; device < 2; ++device) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    SocketTransport& d = device == 0 ? d0 : d1;
    std::thread accept([&] { EXPECT_EQ(d.accept_peer(UniqueFd(fds[1]), soon()), 2); });
    hub.connect_peer(device, UniqueFd(fds[0]), soon());
    accept.join();
  }
  const core::Box box{0, 10, 0, 10, 0, 10};  // 1000 bytes each way
  std::vector<int8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<int8_t>(i * 3);
  std::vector<int8_t> at0(1000);
  std::vector<int8_t> at1(1000);
  int64_t credit0 = 0;
  TransportStatus s1 = TransportStatus::Failed;
  TransportStatus r1 = TransportStatus::Failed;
  std::atomic<bool> done{false};
  std::thread relay([&] {
    while (!done) hub.serve_until(Clock::now() + milliseconds(20));
  });
  std::thread one([&] {
    s1 = send_box(d1, 0, box, data);
    r1 = receive_box(d1, 0, &at1);
  });
  ASSERT_EQ(d1.grant_credit(0, 1000), TransportStatus::Ok);
  EXPECT_EQ(send_box(d0, 1, box, data), TransportStatus::Ok);
  EXPECT_EQ(receive_box(d0, 1, &at0, &credit0), TransportStatus::Ok);
  one.join();
  done = true;
  relay.join();
  EXPECT_EQ(s1, TransportStatus::Ok);
  EXPECT_EQ(r1, TransportStatus::Ok);
  EXPECT_EQ(at0, data);
  EXPECT_EQ(at1, data);
  EXPECT_EQ(credit0, 1000);                      // d1's grant came through the relay
  EXPECT_EQ(hub.counters().frames_relayed, 21);  // 10 + 10 Data frames and 1 Credit
  EXPECT_TRUE(hub.error().empty()) << hub.error();
}

TEST(SocketTransport, PollTimesOut) {
  Pair p;
  LinkEvent e;
  int8_t buf[4];
  const auto start = Clock::now();
  EXPECT_EQ(p.b.poll(&e, buf, 4), TransportStatus::Timeout);
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, milliseconds(190));
  EXPECT_LT(waited, milliseconds(1500));
}

TEST(SocketTransport, FramesOfAnotherPlanAreRefused) {
  Pair p(kHash, kHash + 1);
  const core::Box box{0, 1, 0, 1, 0, 4};
  const std::vector<int8_t> data = {1, 2, 3, 4};
  // b expects a's frames to carry kHash + 1.
  p.a.set_plan_hash(kHash, kHash + 1);
  p.b.set_plan_hash(kHash + 1, kHash + 1);
  ASSERT_EQ(send_box(p.a, 1, box, data), TransportStatus::Ok);
  std::vector<int8_t> out(4);
  EXPECT_EQ(receive_box(p.b, 0, &out), TransportStatus::Failed);
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
  LinkEvent e;
  int8_t buf[2];
  EXPECT_EQ(b.poll(&e, buf, 2), TransportStatus::Failed);
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
  c.set_essential(0);
  EXPECT_EQ(c.poll(&e, buf, 2), TransportStatus::Failed);
  EXPECT_LT(Clock::now() - start, milliseconds(1000));  // at once, not at the timeout
  EXPECT_NE(c.error().find("closed"), std::string::npos) << c.error();
}

}  // namespace
}  // namespace mcusplit::host
