// host::SocketTransport with a cluster key (docs/protocol.md,
// "Authentication"): every frame on a link is tagged under the nonce agreed
// at its greeting, the relay re-tags what it forwards, and a frame altered,
// replayed from an earlier connection, or from a side with another key or
// none is refused and never acted on.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "device/crc32.h"
#include "device/frame_codec.h"
#include "host/cluster_key.h"
#include "host/socket_transport.h"

namespace mcusplit::host {
namespace {

using device::ChunkHeader;
using device::LinkEvent;
using device::MessageType;
using device::TransportStatus;
using std::chrono::milliseconds;

constexpr uint64_t kHash = 0x1234abcd5678ef00ull;

Clock::time_point soon() {
  return Clock::now() + milliseconds(2000);
}

ClusterKey key_of(uint8_t seed) {
  ClusterKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + 7 * i);
  return k;
}

void configure(SocketTransport& t, int self, const std::optional<ClusterKey>& key) {
  t.set_self(self);
  t.set_plan_hash(kHash, kHash);
  t.set_max_payload(100);
  if (key) t.set_key(*key);
}

// Bytes of the whole frame at the start of `bytes`, 0 if not all there yet.
size_t whole_frame(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < device::kHeaderBytes) return 0;
  const uint32_t payload = device::load_le32(bytes.data() + 64);
  const bool tagged = (device::load_le16(bytes.data() + 6) & device::kFlagTagged) != 0;
  const size_t size = device::frame_bytes_for(payload, tagged);
  return bytes.size() >= size ? size : 0;
}

// Sits on a link between a connecting transport and an accepting one:
// forwards both ways, passing each whole frame the connecting side sends
// through `edit` first (which may record or alter it).
class Tap {
 public:
  using Edit = std::function<void(std::vector<uint8_t>& frame)>;
  explicit Tap(Edit edit) : edit_(std::move(edit)) {
    int a[2];
    int b[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), 0);
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b), 0);
    connecting_end_ = a[0];
    accepting_end_ = b[1];
    thread_ = std::thread([this, from = a[1], to = b[0]] { forward(from, to); });
  }
  ~Tap() {
    stop_ = true;
    thread_.join();
  }
  UniqueFd connecting_end() { return UniqueFd(connecting_end_); }
  UniqueFd accepting_end() { return UniqueFd(accepting_end_); }

 private:
  void forward(int from, int to) {
    std::vector<uint8_t> pending;
    while (!stop_) {
      pollfd fds[2] = {{from, POLLIN, 0}, {to, POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) continue;
      uint8_t buf[4096];
      if (fds[1].revents & (POLLIN | POLLHUP)) {
        const ssize_t n = ::read(to, buf, sizeof buf);
        if (n <= 0 || ::write(from, buf, static_cast<size_t>(n)) != n) break;
      }
      if (fds[0].revents & (POLLIN | POLLHUP)) {
        const ssize_t n = ::read(from, buf, sizeof buf);
        if (n <= 0) break;
        pending.insert(pending.end(), buf, buf + n);
        for (size_t size = whole_frame(pending); size > 0; size = whole_frame(pending)) {
          std::vector<uint8_t> frame(pending.begin(), pending.begin() + static_cast<long>(size));
          pending.erase(pending.begin(), pending.begin() + static_cast<long>(size));
          edit_(frame);
          if (::write(to, frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) {
            return;
          }
        }
      }
    }
    ::close(from);
    ::close(to);
  }

  Edit edit_;
  int connecting_end_ = -1;
  int accepting_end_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Links `a` (participant 0, connecting) to `b` (1, accepting) through `tap`.
void link_through(Tap& tap, SocketTransport& a, SocketTransport& b) {
  std::thread accept([&] { EXPECT_EQ(b.accept_peer(tap.accepting_end(), soon()), 0); });
  a.connect_peer(1, tap.connecting_end(), soon());
  accept.join();
}

TransportStatus send_data(SocketTransport& t, int destination, const std::vector<int8_t>& data) {
  ChunkHeader c;
  c.source = t.self();
  c.destination = destination;
  c.tensor = 3;
  c.box = core::Box{0, 1, 0, 1, 0, static_cast<int32_t>(data.size())};
  c.message_bytes = static_cast<int64_t>(data.size());
  c.payload_bytes = static_cast<int32_t>(data.size());
  return t.send_chunk(c, data.data());
}

TEST(SocketTransportAuth, KeyedLinksCarryTaggedFramesThatArriveIntact) {
  std::vector<std::vector<uint8_t>> seen;
  Tap tap([&](std::vector<uint8_t>& f) { seen.push_back(f); });
  SocketTransport a(milliseconds(1000));
  SocketTransport b(milliseconds(1000));
  configure(a, 0, key_of(1));
  configure(b, 1, key_of(1));
  link_through(tap, a, b);
  const std::vector<int8_t> data = {5, -6, 7, -8};
  ASSERT_EQ(send_data(a, 1, data), TransportStatus::Ok);
  LinkEvent e;
  int8_t got[4] = {};
  ASSERT_EQ(b.poll(&e, got, 4), TransportStatus::Ok) << b.error();
  EXPECT_EQ(std::vector<int8_t>(got, got + 4), data);
  // The Ping and the Data frame: both tagged, 16 bytes longer.
  ASSERT_EQ(seen.size(), 2u);
  for (const std::vector<uint8_t>& f : seen) {
    EXPECT_TRUE(device::load_le16(f.data() + 6) & device::kFlagTagged);
    EXPECT_EQ(f.size(), device::frame_bytes_for(device::load_le32(f.data() + 64), true));
  }
}

// The star with a key: the hub checks each device's frames under that
// device's link nonce and re-tags them for the other's.
TEST(SocketTransportAuth, TheRelayRetagsWhatItForwards) {
  SocketTransport d0(milliseconds(2000));
  SocketTransport d1(milliseconds(2000));
  SocketTransport hub(milliseconds(2000));
  configure(d0, 0, key_of(3));
  configure(d1, 1, key_of(3));
  configure(hub, 2, key_of(3));
  hub.set_relay(true);
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
  std::atomic<bool> done{false};
  std::thread relay([&] {
    while (!done) hub.serve_until(Clock::now() + milliseconds(20));
  });
  const std::vector<int8_t> data(100, 9);
  EXPECT_EQ(send_data(d0, 1, data), TransportStatus::Ok);
  LinkEvent e;
  std::vector<int8_t> got(100);
  EXPECT_EQ(d1.poll(&e, got.data(), 100), TransportStatus::Ok) << d1.error();
  done = true;
  relay.join();
  EXPECT_EQ(got, data);
  EXPECT_EQ(hub.counters().frames_relayed, 1);
  EXPECT_EQ(hub.counters().bytes_relayed, static_cast<int64_t>(device::frame_bytes_for(100, true)));
  EXPECT_TRUE(hub.error().empty()) << hub.error();
}

// A payload byte altered and its CRC resealed (what the CRC alone would pass):
// the tag refuses it, and the receiver gets no event from it.
TEST(SocketTransportAuth, AnAlteredFrameIsRefusedAndNotActedOn) {
  Tap tap([](std::vector<uint8_t>& f) {
    if (f[5] != static_cast<uint8_t>(MessageType::Data)) return;
    const uint32_t n = device::load_le32(f.data() + 64);
    f[device::kHeaderBytes] ^= 0x40;
    device::store_le32(f.data() + device::kHeaderBytes + n,
                       device::crc32(f.data() + device::kHeaderBytes, n));
  });
  SocketTransport a(milliseconds(1000));
  SocketTransport b(milliseconds(1000));
  configure(a, 0, key_of(1));
  configure(b, 1, key_of(1));
  link_through(tap, a, b);
  ASSERT_EQ(send_data(a, 1, {1, 2, 3}), TransportStatus::Ok);
  LinkEvent e;
  int8_t got[3];
  EXPECT_EQ(b.poll(&e, got, 3), TransportStatus::Failed);
  EXPECT_EQ(b.error(),
            "bad frame from participant 0: wrong authentication tag (another cluster key, an "
            "altered frame, or one replayed from another connection)");
  EXPECT_EQ(b.counters().frames_received, 1);  // the Ping only
}

// Every frame of one connection recorded, then played into a new one to a
// receiver with the same key: the replayed Ping is a valid greeting, but the
// new link's nonce takes the receiver's fresh challenge too, so the replayed
// Data frame after it fails its tag.
TEST(SocketTransportAuth, FramesReplayedFromAnEarlierConnectionAreRefused) {
  std::vector<std::vector<uint8_t>> recorded;
  {
    Tap tap([&](std::vector<uint8_t>& f) { recorded.push_back(f); });
    SocketTransport a(milliseconds(1000));
    SocketTransport b(milliseconds(1000));
    configure(a, 0, key_of(2));
    configure(b, 1, key_of(2));
    link_through(tap, a, b);
    ASSERT_EQ(send_data(a, 1, {4, 5}), TransportStatus::Ok);
    LinkEvent e;
    int8_t got[2];
    ASSERT_EQ(b.poll(&e, got, 2), TransportStatus::Ok) << b.error();
  }
  ASSERT_EQ(recorded.size(), 2u);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  for (const std::vector<uint8_t>& f : recorded) {
    ASSERT_EQ(::write(fds[0], f.data(), f.size()), static_cast<ssize_t>(f.size()));
  }
  SocketTransport fresh(milliseconds(1000));
  configure(fresh, 1, key_of(2));
  EXPECT_EQ(fresh.accept_peer(UniqueFd(fds[1]), soon()), 0);
  LinkEvent e;
  int8_t got[2];
  EXPECT_EQ(fresh.poll(&e, got, 2), TransportStatus::Failed);
  EXPECT_NE(fresh.error().find("wrong authentication tag"), std::string::npos) << fresh.error();
  ::close(fds[0]);
}

// A Pong made with the key but for another challenge (one from an earlier
// greeting): the connecting side refuses it.
TEST(SocketTransportAuth, AGreetingAnswerForAnotherChallengeIsRefused) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  const ClusterKey key = key_of(4);
  std::thread peer([&] {
    std::vector<uint8_t> ping(device::frame_bytes_for(8, true));
    size_t got = 0;
    while (got < ping.size()) {
      const ssize_t n = ::read(fds[1], ping.data() + got, ping.size() - got);
      if (n <= 0) return;
      got += static_cast<size_t>(n);
    }
    device::FrameHeader h;
    h.type = MessageType::Pong;
    h.source = 1;
    h.destination = 0;
    h.plan_hash = kHash;
    h.inference_id = device::kNoInference;
    h.message_bytes = 16;
    h.payload_bytes = 16;
    uint8_t payload[16];
    device::store_le64(payload, device::load_le64(ping.data() + device::kHeaderBytes) + 1);
    device::store_le64(payload + 8, 99);
    device::FrameAuth auth;
    auth.key = key.data();
    std::vector<uint8_t> pong(device::frame_bytes_for(16, true));
    const size_t n = device::encode_frame(h, payload, pong.data(), pong.size(), {}, &auth);
    EXPECT_EQ(::write(fds[1], pong.data(), n), static_cast<ssize_t>(n));
  });
  SocketTransport a(milliseconds(1000));
  configure(a, 0, key);
  try {
    a.connect_peer(1, UniqueFd(fds[0]), soon());
    ADD_FAILURE() << "connected";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "the greeting's answer from participant 1 does not echo its challenge");
  }
  peer.join();
  ::close(fds[1]);
}

// A key on one side only, or two keys: both sides refuse at the greeting,
// each naming the mismatch from its own side.
TEST(SocketTransportAuth, AKeyMismatchIsRefusedAtTheGreetingByBothSides) {
  struct Case {
    std::optional<ClusterKey> connecting, accepting;
    const char* connecting_says;
    const char* accepting_says;
  };
  const Case cases[] = {
      {key_of(5), std::nullopt, "no authentication tag (this side has a cluster key",
       "refused a greeting: an authentication tag (this side has no cluster key"},
      {std::nullopt, key_of(5), "an authentication tag (this side has no cluster key",
       "refused a greeting: no authentication tag (this side has a cluster key"},
      {key_of(5), key_of(6), "wrong authentication tag",
       "refused a greeting: wrong authentication"},
  };
  for (const Case& c : cases) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    SocketTransport a(milliseconds(1000));
    SocketTransport b(milliseconds(1000));
    configure(a, 0, c.connecting);
    configure(b, 1, c.accepting);
    std::string accepting_error;
    std::thread accept([&] {
      try {
        b.accept_peer(UniqueFd(fds[1]), soon());
      } catch (const Error& e) {
        accepting_error = e.what();
      }
      b.linger(soon());
    });
    std::string connecting_error;
    try {
      a.connect_peer(1, UniqueFd(fds[0]), soon());
    } catch (const Error& e) {
      connecting_error = e.what();
    }
    accept.join();
    EXPECT_EQ(
        connecting_error.find(std::string("bad frame from participant 1: ") + c.connecting_says),
        0u)
        << connecting_error;
    EXPECT_EQ(accepting_error.find(c.accepting_says), 0u) << accepting_error;
  }
}

}  // namespace
}  // namespace mcusplit::host
