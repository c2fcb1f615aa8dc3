// host::SocketTransport over socket pairs: boxes as chunks of at most the max
// payload, credit grants, the star relay, poll timeouts, frames the protocol
// forbids (another plan's hash, a sequence gap, a closed link) failing
// instead of hanging, and serial links resynchronising past garbage.
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
  // Before d1's thread starts: a transport is driven by one thread.
  ASSERT_EQ(d1.grant_credit(0, 1000), TransportStatus::Ok);
  std::thread one([&] {
    s1 = send_box(d1, 0, box, data);
    r1 = receive_box(d1, 0, &at1);
  });
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

// A raw device on the far end of a link: writes frames and bytes as a
// firmware on a UART would.
class RawDevice {
 public:
  explicit RawDevice(int fd) : fd_(fd) {}
  ~RawDevice() { ::close(fd_); }
  RawDevice(const RawDevice&) = delete;
  RawDevice& operator=(const RawDevice&) = delete;

  std::vector<uint8_t> frame(device::FrameHeader h, const std::vector<uint8_t>& payload) {
    h.source = 0;
    h.destination = 1;
    h.plan_hash = kHash;
    h.sequence = sequence_++;
    h.payload_bytes = static_cast<uint32_t>(payload.size());
    if (!device::carries_box(h.type)) h.message_bytes = h.payload_bytes;
    std::vector<uint8_t> out(device::frame_bytes_for(h.payload_bytes));
    const size_t n = device::encode_frame(h, payload.data(), out.data(), out.size());
    EXPECT_EQ(n, out.size());
    return out;
  }
  void write(const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  void write(const std::string& text) { write(std::vector<uint8_t>(text.begin(), text.end())); }

 private:
  int fd_;
  uint32_t sequence_ = 0;
};

std::vector<uint8_t> credit_frame(RawDevice& d, uint32_t inference, uint32_t bytes) {
  device::FrameHeader h;
  h.type = MessageType::Credit;
  h.inference_id = inference;
  std::vector<uint8_t> body(device::kCreditPayloadBytes);
  device::encode_credit_payload(bytes, body.data());
  return d.frame(h, body);
}

// The coordinator (1) on a serial link to device 0: a boot banner, a false
// magic with half a header, magic prefixes and a header whose CRC fails are
// skipped and counted exactly; the frames between them all arrive, in order.
TEST(SocketTransport, ASerialLinkSkipsGarbageBetweenFramesAndCountsIt) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  SocketTransport hub(milliseconds(2000));
  hub.set_self(1);
  hub.set_plan_hash(kHash, kHash);
  hub.set_max_payload(100);
  hub.set_inference(7);
  hub.set_serial(0, true);
  hub.attach_peer(0, UniqueFd(fds[1]));
  RawDevice dev(fds[0]);

  const std::string banner = "mcusplit-fw device: 'teensy41-0' participant 0 of 2\r\n";
  std::vector<uint8_t> false_magic = {'M', 'S', 'P', 'F', 1};
  false_magic.resize(34, 0x5A);  // a header candidate whose CRC cannot match
  const std::vector<uint8_t> credit = credit_frame(dev, 7, 600);
  device::FrameHeader ping;
  ping.type = MessageType::Ping;
  const std::vector<uint8_t> pong_payload = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<uint8_t> ping_frame = dev.frame(ping, pong_payload);
  // A copy of a real header with one bit flipped: its CRC fails.
  std::vector<uint8_t> corrupt(ping_frame.begin(), ping_frame.begin() + device::kHeaderBytes);
  corrupt[40] ^= 0x10;
  device::FrameHeader data;
  data.type = MessageType::Data;
  data.inference_id = 7;
  data.tensor = 3;
  data.box = core::Box{0, 1, 0, 1, 0, 5};
  data.message_bytes = 5;
  const std::vector<uint8_t> data_frame = dev.frame(data, {10, 20, 30, 40, 50});

  dev.write(banner);
  dev.write(false_magic);
  dev.write(credit);
  dev.write(std::string("MS"));
  dev.write(std::string("MSP"));
  dev.write(ping_frame);
  dev.write(std::string("xyz"));
  dev.write(corrupt);
  dev.write(data_frame);

  LinkEvent e;
  int8_t buf[100];
  ASSERT_EQ(hub.poll(&e, buf, 100), TransportStatus::Ok) << hub.error();
  ASSERT_EQ(e.kind, LinkEventKind::Credit);
  EXPECT_EQ(e.peer, 0);
  EXPECT_EQ(e.credit_bytes, 600);
  ASSERT_EQ(hub.poll(&e, buf, 100), TransportStatus::Ok) << hub.error();
  ASSERT_EQ(e.kind, LinkEventKind::Data);
  EXPECT_EQ(e.chunk.payload_bytes, 5);
  EXPECT_EQ(std::vector<int8_t>(buf, buf + 5), (std::vector<int8_t>{10, 20, 30, 40, 50}));
  WireMessage m;
  ASSERT_EQ(hub.wait_control(&m, soon(), 0, static_cast<int>(MessageType::Ping)),
            TransportStatus::Ok);
  EXPECT_EQ(m.body, pong_payload);
  EXPECT_TRUE(hub.error().empty()) << hub.error();
  EXPECT_EQ(hub.dropped_bytes(0),
            static_cast<int64_t>(banner.size() + false_magic.size() + 2 + 3 + 3 + corrupt.size()));
  EXPECT_EQ(hub.counters().frames_received, 3);
}

// Garbage split across reads: a magic prefix at the end of one write is
// kept until the next shows whether a frame follows.
TEST(SocketTransport, ASerialLinkKeepsAMagicPrefixUntilMoreBytesArrive) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  SocketTransport hub(milliseconds(2000));
  hub.set_self(1);
  hub.set_plan_hash(kHash, kHash);
  hub.set_inference(0);
  hub.set_serial(0, true);
  hub.attach_peer(0, UniqueFd(fds[1]));
  RawDevice dev(fds[0]);
  const std::vector<uint8_t> credit = credit_frame(dev, 0, 42);
  std::thread writer([&] {
    dev.write(std::string("noise MSP"));
    std::this_thread::sleep_for(milliseconds(50));
    dev.write(std::vector<uint8_t>(credit.begin(), credit.begin() + 3));  // "MSP" again
    std::this_thread::sleep_for(milliseconds(50));
    dev.write(std::vector<uint8_t>(credit.begin() + 3, credit.end()));
  });
  LinkEvent e;
  int8_t buf[4];
  const TransportStatus s = hub.poll(&e, buf, 4);
  writer.join();
  ASSERT_EQ(s, TransportStatus::Ok) << hub.error();
  EXPECT_EQ(e.kind, LinkEventKind::Credit);
  EXPECT_EQ(e.credit_bytes, 42);
  EXPECT_EQ(hub.dropped_bytes(0), 9);  // "noise MSP"
}

// What a serial link forgives is garbage, not a real frame gone bad: a sound
// header with a corrupted payload still fails the link, as on TCP; and a TCP
// link fails on the first byte of garbage.
TEST(SocketTransport, ABadFrameFailsASerialLinkAndGarbageFailsATcpLink) {
  for (const bool serial : {true, false}) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    SocketTransport hub(milliseconds(2000));
    hub.set_self(1);
    hub.set_plan_hash(kHash, kHash);
    hub.set_inference(0);
    hub.set_serial(0, serial);
    hub.attach_peer(0, UniqueFd(fds[1]));
    RawDevice dev(fds[0]);
    std::vector<uint8_t> credit = credit_frame(dev, 0, 42);
    if (serial) {
      credit[device::kHeaderBytes] ^= 1;  // the payload: its CRC fails
    } else {
      dev.write(std::string("banner\r\n"));
    }
    dev.write(credit);
    LinkEvent e;
    int8_t buf[4];
    EXPECT_EQ(hub.poll(&e, buf, 4), TransportStatus::Failed) << (serial ? "serial" : "tcp");
    EXPECT_NE(hub.error().find("bad frame"), std::string::npos) << hub.error();
    EXPECT_EQ(hub.dropped_bytes(0), 0);
  }
}

}  // namespace
}  // namespace mcusplit::host
