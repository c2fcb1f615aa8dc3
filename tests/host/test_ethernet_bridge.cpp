// The coordinator's Ethernet bridge (host/ethernet_bridge.h) on a real
// vde_switch (host/ethernet_network.h), against fake devices written here: a
// libvdeplug client each that follows the device's rules of
// device/link_reliability.h (a window of one frame, every frame and
// duplicate acknowledged). Frames both ways arrive in order exactly once
// through a wirefilter that loses 5% of them; two devices talk through the
// bridge in the star topology; frames the bridge cannot take are dropped and
// counted by reason; a cut link is reported naming the device within the
// run's timeout; nothing is left running or on disk afterwards.
//
// These need vde_switch and wirefilter (apt-get install vde2): labelled vde
// (tests/CMakeLists.txt), skipped without them, failed without them on CI.
#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "device/ethernet_frame.h"
#include "device/frame_codec.h"
#include "device/link_reliability.h"
#include "host/child_process.h"
#include "host/ethernet_addresses.h"
#include "host/ethernet_bridge.h"
#include "host/ethernet_network.h"
#include "host/socket_io.h"
#include "host/vde_plug.h"
#include "support/required_data.h"

namespace mcusplit::host {
namespace {

using device::FrameHeader;
using device::FrameView;
using device::MessageType;
using std::chrono::milliseconds;

bool vde_installed() {
  return !find_program("vde_switch").empty() && !find_program("wirefilter").empty();
}

uint32_t now_ms() {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count());
}

// Waits up to `limit` for `done`.
template <typename Done>
bool eventually(Done done, milliseconds limit = milliseconds(20000)) {
  const Clock::time_point deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

// A Ping from `source` to `destination` carrying `index` (u32): the frames
// the tests count.
std::vector<uint8_t> ping(uint16_t source, uint16_t destination, uint32_t sequence,
                          uint32_t index) {
  FrameHeader h;
  h.type = MessageType::Ping;
  h.source = source;
  h.destination = destination;
  h.sequence = sequence;
  h.message_bytes = 4;
  h.payload_bytes = 4;
  uint8_t payload[4];
  device::store_le32(payload, index);
  std::vector<uint8_t> out(device::frame_bytes_for(4));
  EXPECT_EQ(device::encode_frame(h, payload, out.data(), out.size()), out.size());
  return out;
}

std::vector<uint8_t> with_ethernet(const device::MacAddress& to, const device::MacAddress& from,
                                   const std::vector<uint8_t>& frame, uint16_t ether_type) {
  std::vector<uint8_t> out(device::kEthernetHeaderBytes + frame.size());
  device::encode_ethernet_header(to, from, out.data());
  out[12] = static_cast<uint8_t>(ether_type >> 8);
  out[13] = static_cast<uint8_t>(ether_type);
  std::copy(frame.begin(), frame.end(), out.begin() + device::kEthernetHeaderBytes);
  return out;
}

// A device on the switch, by the device's rules: every stream sequenced
// from 0; one frame in flight at a time (the firmware's single
// retransmission copy), sent again on its RetransmitTimer; every frame and
// duplicate answered with an Ack of what is held. In the star topology
// every frame goes to the coordinator's MAC (its bridge relays), else to the
// destination's own.
class FakeDevice {
 public:
  FakeDevice(const std::string& plug, int self, int devices, bool star)
      : plug_(plug, "fake device " + std::to_string(self)),
        self_(static_cast<uint16_t>(self)),
        devices_(devices),
        star_(star),
        next_sequence_(static_cast<size_t>(devices) + 1, 0),
        expected_(static_cast<size_t>(devices) + 1, 0),
        taken_(static_cast<size_t>(devices) + 1) {
    thread_ = std::thread([this] { run(); });
  }
  ~FakeDevice() {
    stop_ = true;
    thread_.join();
  }

  // Queues Pings with indices 0..count-1 to `destination`.
  void send_pings(int destination, uint32_t count) {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (uint32_t i = 0; i < count; ++i) {
      const auto to = static_cast<uint16_t>(destination);
      outbox_.push_back(Outgoing{to, ping(self_, to, next_sequence_[destination]++, i)});
    }
  }
  // The indices taken from `source`, in the order taken.
  std::vector<uint32_t> taken(int source) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return taken_[static_cast<size_t>(source)];
  }
  bool all_acknowledged() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return outbox_.empty();
  }
  int64_t duplicates() const { return duplicates_; }

 private:
  struct Outgoing {
    uint16_t destination;
    std::vector<uint8_t> frame;
  };

  device::MacAddress route(int participant) const {
    if (participant == devices_) return coordinator_mac();
    return star_ ? coordinator_mac() : device_mac(participant);
  }
  void send(int destination, const std::vector<uint8_t>& frame) {
    const std::vector<uint8_t> out =
        with_ethernet(route(destination), device_mac(self_), frame, device::kEtherType);
    plug_.send(out.data(), out.size());
  }
  void send_ack(const FrameHeader& about, uint32_t acked) {
    FrameHeader a;
    a.type = MessageType::Ack;
    a.source = self_;
    a.destination = about.source;
    a.plan_hash = about.plan_hash;
    a.inference_id = about.inference_id;
    a.message_bytes = device::kAckPayloadBytes;
    a.payload_bytes = device::kAckPayloadBytes;
    uint8_t payload[device::kAckPayloadBytes];
    device::encode_ack_payload(acked, payload);
    std::vector<uint8_t> frame(device::frame_bytes_for(device::kAckPayloadBytes));
    device::encode_frame(a, payload, frame.data(), frame.size());
    send(about.source, frame);
  }

  void run() {
    std::vector<uint8_t> buffer(16384);
    bool in_flight = false;
    device::RetransmitTimer timer;
    while (!stop_) {
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!outbox_.empty() && (!in_flight || timer.due(now_ms()))) {
          send(outbox_.front().destination, outbox_.front().frame);
          if (in_flight) {
            timer.backoff(now_ms());
          } else {
            timer.restart(now_ms());
            in_flight = true;
          }
        }
      }
      pollfd p{plug_.fd(), POLLIN, 0};
      if (::poll(&p, 1, 5) <= 0) continue;
      for (;;) {
        const ssize_t n = plug_.receive(buffer.data(), buffer.size());
        if (n <= 0) break;
        const auto size = static_cast<size_t>(n);
        if (device::check_ethernet_header(buffer.data(), size, device_mac(self_)) !=
            device::EthernetVerdict::Ok) {
          continue;
        }
        FrameView f;
        if (device::decode_frame(buffer.data() + device::kEthernetHeaderBytes,
                                 size - device::kEthernetHeaderBytes, device::DecoderConfig{},
                                 &f) != device::DecodeStatus::Ok ||
            f.header.destination != self_ || f.header.source > devices_) {
          continue;
        }
        const FrameHeader& h = f.header;
        const std::lock_guard<std::mutex> lock(mutex_);
        if (h.type == MessageType::Ack) {
          if (in_flight && outbox_.front().destination == h.source &&
              device::acknowledges(
                  device::ack_sequence(f.payload),
                  device::load_le32(outbox_.front().frame.data() + device::kOffSequence))) {
            outbox_.pop_front();
            in_flight = false;
          }
          continue;
        }
        uint32_t& expected = expected_[h.source];
        switch (device::classify_arrival(h.sequence, expected)) {
          case device::Arrival::New:
            taken_[h.source].push_back(device::load_le32(f.payload));
            ++expected;
            break;
          case device::Arrival::Duplicate:
            ++duplicates_;
            break;
          case device::Arrival::Ahead:
            break;
        }
        send_ack(h, expected - 1);
      }
    }
  }

  VdePlug plug_;
  uint16_t self_;
  int devices_;
  bool star_;
  std::vector<uint32_t> next_sequence_;  // by destination
  std::vector<uint32_t> expected_;       // by source
  mutable std::mutex mutex_;
  std::deque<Outgoing> outbox_;               // the front is in flight once sent
  std::vector<std::vector<uint32_t>> taken_;  // by source
  std::atomic<int64_t> duplicates_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The coordinator's side of one device's connection to the bridge: whole
// frames written, whole frames read.
class CoordinatorEnd {
 public:
  explicit CoordinatorEnd(const SocketAddress& bridge)
      : fd_(connect_until(bridge, Clock::now() + milliseconds(5000))) {}
  void write(const std::vector<uint8_t>& frame) {
    ASSERT_EQ(::send(fd_.get(), frame.data(), frame.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(frame.size()));
  }
  // The next frame, or nothing by the deadline or at the end of the
  // connection (closed() then says so).
  std::optional<FrameView> read(milliseconds limit = milliseconds(20000)) {
    const Clock::time_point deadline = Clock::now() + limit;
    for (;;) {
      FrameView f;
      if (consumed_ > 0) {
        in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(consumed_));
        consumed_ = 0;
      }
      const device::DecodeStatus s =
          device::decode_frame(in_.data(), in_.size(), device::DecoderConfig{}, &f);
      if (s == device::DecodeStatus::Ok) {
        consumed_ = f.frame_bytes;
        return f;
      }
      EXPECT_EQ(s, device::DecodeStatus::Short);
      if (s != device::DecodeStatus::Short || closed_) return std::nullopt;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, ms_until(deadline)) <= 0) return std::nullopt;
      uint8_t chunk[4096];
      const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
      if (n <= 0) {
        closed_ = true;
        continue;
      }
      in_.insert(in_.end(), chunk, chunk + n);
    }
  }
  bool closed() const { return closed_; }

 private:
  UniqueFd fd_;
  std::vector<uint8_t> in_;
  size_t consumed_ = 0;  // of in_, by the frame returned last (its view points into in_)
  bool closed_ = false;
};

EthernetBridgeOptions bridge_options(const EthernetNetwork& network, std::vector<std::string> names,
                                     milliseconds dead_after) {
  EthernetBridgeOptions o;
  o.switch_path = network.switch_path();
  o.device_names = std::move(names);
  o.dead_after = dead_after;
  return o;
}

std::vector<uint32_t> indices(uint32_t count) {
  std::vector<uint32_t> v(count);
  for (uint32_t i = 0; i < count; ++i) v[i] = i;
  return v;
}

TEST(EthernetBridge, LossyLinkDeliversBothWaysInOrderExactlyOnce) {
  MCUSPLIT_REQUIRE_DATA(vde_installed(), "vde2");
  LinkShaping lossy;
  lossy.loss = 0.05;
  EthernetNetwork network(1, lossy);
  EthernetBridge bridge(bridge_options(network, {"d0"}, milliseconds(10000)));
  FakeDevice device(network.device_plug(0), 0, 1, true);
  CoordinatorEnd coordinator(bridge.addresses()[0]);
  constexpr uint32_t kFrames = 200;
  device.send_pings(1, kFrames);
  for (uint32_t i = 0; i < kFrames; ++i) coordinator.write(ping(1, 0, i, i));

  for (uint32_t i = 0; i < kFrames; ++i) {
    const std::optional<FrameView> f = coordinator.read();
    ASSERT_TRUE(f) << "frame " << i << " from the device did not arrive";
    EXPECT_EQ(f->header.sequence, i);
    EXPECT_EQ(f->header.source, 0);
    EXPECT_EQ(device::load_le32(f->payload), i);
  }
  ASSERT_TRUE(eventually([&] { return device.taken(1).size() >= kFrames; }));
  EXPECT_EQ(device.taken(1), indices(kFrames));
  EXPECT_TRUE(eventually([&] { return device.all_acknowledged(); }));
  // Nothing more: every duplicate was dropped on the way.
  EXPECT_FALSE(coordinator.read(milliseconds(300)));
  // With 800 frames and Acks crossing a 5% loss, some were lost and sent
  // again (the chance that none was is below 1e-9).
  const EthernetLinkCounters c = bridge.counters(0);
  EXPECT_GT(c.retransmissions, 0);
  EXPECT_EQ(c.dropped_total(), 0);
  EXPECT_EQ(bridge.failure(0), "");
  EXPECT_GE(bridge.figures().retransmissions.at(0), c.retransmissions);
  // Each of the coordinator's frames acknowledged once, however often sent.
  EXPECT_TRUE(eventually([&] { return bridge.acknowledged(0) == kFrames; }))
      << bridge.acknowledged(0);
}

TEST(EthernetBridge, RelaysBetweenDevicesInTheStarTopology) {
  MCUSPLIT_REQUIRE_DATA(vde_installed(), "vde2");
  EthernetNetwork network(2, LinkShaping{});
  EthernetBridge bridge(bridge_options(network, {"left", "right"}, milliseconds(10000)));
  FakeDevice left(network.device_plug(0), 0, 2, true);
  FakeDevice right(network.device_plug(1), 1, 2, true);
  constexpr uint32_t kFrames = 50;
  left.send_pings(1, kFrames);
  right.send_pings(0, kFrames);
  ASSERT_TRUE(eventually([&] {
    return right.taken(0).size() >= kFrames && left.taken(1).size() >= kFrames &&
           left.all_acknowledged() && right.all_acknowledged();
  }));
  EXPECT_EQ(right.taken(0), indices(kFrames));
  EXPECT_EQ(left.taken(1), indices(kFrames));
  // Lossless: each frame relayed once, and once more for each time its
  // sender's timer ran out first (the receiver then dropped a duplicate);
  // the Acks are relayed too, but not counted.
  const FakeDevice* receiver[] = {&right, &left};
  for (int i : {0, 1}) {
    const int64_t frames = kFrames + receiver[i]->duplicates();
    EXPECT_TRUE(eventually([&] { return bridge.counters(i).frames_relayed == frames; }))
        << i << ": " << bridge.counters(i).frames_relayed << " relayed";
    const EthernetLinkCounters c = bridge.counters(i);
    EXPECT_EQ(c.bytes_relayed, frames * static_cast<int64_t>(device::frame_bytes_for(4))) << i;
    EXPECT_EQ(c.dropped_total(), 0) << i;
  }
  const LinkLayerFigures f = bridge.figures();
  EXPECT_EQ(f.frames_relayed, 2 * kFrames + left.duplicates() + right.duplicates());
  bridge.reset_figures();
  EXPECT_EQ(bridge.figures().frames_relayed, 0);
  EXPECT_EQ(bridge.device_address(1), "02:6d:73:00:01:01");
}

TEST(EthernetBridge, DropsAndCountsFramesItCannotTake) {
  MCUSPLIT_REQUIRE_DATA(vde_installed(), "vde2");
  EthernetNetwork network(1, LinkShaping{});
  EthernetBridge bridge(bridge_options(network, {"d0"}, milliseconds(10000)));
  CoordinatorEnd coordinator(bridge.addresses()[0]);
  // A plug of the test's own that sends as it likes.
  VdePlug wire(network.switch_path(), "test");
  const auto put = [&](const std::vector<uint8_t>& frame) {
    ASSERT_TRUE(wire.send(frame.data(), frame.size()));
  };
  const device::MacAddress d0 = device_mac(0);
  const device::MacAddress stranger{{0x02, 0x6d, 0x73, 0x00, 0x02, 0x01}};
  const device::MacAddress broadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  const std::vector<uint8_t> good = ping(0, 1, 0, 7);
  put(with_ethernet(coordinator_mac(), stranger, good, device::kEtherType));
  put(with_ethernet(coordinator_mac(), d0, good, 0x0800));
  put(with_ethernet(coordinator_mac(), d0, {good.begin(), good.begin() + 20}, device::kEtherType));
  put(with_ethernet(broadcast, d0, good, device::kEtherType));
  std::vector<uint8_t> corrupt = good;
  corrupt.back() ^= 0x01;  // the payload CRC
  put(with_ethernet(coordinator_mac(), d0, corrupt, device::kEtherType));
  // Device 0's MAC but participant 1's frame.
  put(with_ethernet(coordinator_mac(), d0, ping(2, 1, 0, 7), device::kEtherType));

  const auto dropped = [&](BridgeDrop reason) {
    return bridge.counters(0).dropped[static_cast<size_t>(reason)];
  };
  ASSERT_TRUE(eventually([&] { return bridge.counters(0).dropped_total() >= 5; }));
  EXPECT_EQ(dropped(BridgeDrop::WrongType), 1);
  EXPECT_EQ(dropped(BridgeDrop::Short), 1);
  EXPECT_EQ(dropped(BridgeDrop::NotAddressed), 1);
  EXPECT_EQ(dropped(BridgeDrop::BadFrame), 2);
  EXPECT_EQ(dropped(BridgeDrop::UnknownSource), 0);
  EXPECT_TRUE(eventually([&] {
    return bridge.unknown_source_counters()
               .dropped[static_cast<size_t>(BridgeDrop::UnknownSource)] == 1;
  }));
  EXPECT_EQ(std::string(bridge_drop_name(BridgeDrop::NotAddressed)), "not addressed here");

  // None of them reached the coordinator: the first frame it gets is the
  // good one, sent last.
  put(with_ethernet(coordinator_mac(), d0, good, device::kEtherType));
  const std::optional<FrameView> f = coordinator.read();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->header.source, 0);
  EXPECT_EQ(f->header.sequence, 0u);
  EXPECT_EQ(device::load_le32(f->payload), 7u);
}

TEST(EthernetBridge, CutLinkIsReportedByNameWithinTheTimeout) {
  MCUSPLIT_REQUIRE_DATA(vde_installed(), "vde2");
  LinkShaping filtered;
  filtered.loss = 0;  // a wirefilter that passes everything, to be cut
  EthernetNetwork network(1, filtered);
  constexpr milliseconds kTimeout{600};
  EthernetBridge bridge(bridge_options(network, {"left"}, kTimeout));
  FakeDevice device(network.device_plug(0), 0, 1, true);
  CoordinatorEnd coordinator(bridge.addresses()[0]);
  coordinator.write(ping(1, 0, 0, 0));
  ASSERT_TRUE(eventually([&] { return device.taken(1).size() == 1; }));

  ASSERT_TRUE(eventually([&] { return bridge.acknowledged(0) == 1; }));
  ASSERT_TRUE(network.cut_link(0));
  const Clock::time_point cut = Clock::now();
  coordinator.write(ping(1, 0, 1, 1));
  // The bridge closes the device's connection once the link is dead.
  EXPECT_FALSE(coordinator.read(kTimeout + milliseconds(2000)));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - cut);
  EXPECT_TRUE(coordinator.closed());
  EXPECT_GE(took, kTimeout);
  EXPECT_LT(took, kTimeout + milliseconds(1000));
  const std::string why = bridge.failure(0);
  EXPECT_EQ(
      why.rfind("the Ethernet link to device 'left' carried no acknowledgement for 600 ms (", 0),
      0u)
      << why;
  EXPECT_NE(why.find(" retransmissions)"), std::string::npos) << why;
  EXPECT_GT(bridge.counters(0).retransmissions, 0);
  EXPECT_EQ(bridge.acknowledged(0), 1);
  EXPECT_EQ(device.taken(1).size(), 1u);
}

// Every process whose parent is this one, zombies included.
std::vector<pid_t> child_processes() {
  std::vector<pid_t> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  while (const dirent* e = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    std::getline(stat, line);
    // "pid (comm) state ppid ...": the command may hold spaces and parens.
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == ::getpid()) {
      children.push_back(pid);
    }
  }
  ::closedir(proc);
  return children;
}

TEST(EthernetNetwork, LeavesNoProcessSocketOrFileBehind) {
  MCUSPLIT_REQUIRE_DATA(vde_installed(), "vde2");
  const size_t before = child_processes().size();
  std::string dir;
  {
    LinkShaping shaped;
    shaped.rate_bits_per_s = 10'000'000;
    shaped.delay_ms = 1;
    shaped.loss = 0.01;
    EthernetNetwork network(2, shaped);
    dir = network.directory();
    // The main switch, and a switch and a wirefilter per device.
    EXPECT_EQ(child_processes().size(), before + 5);
    EXPECT_TRUE(std::filesystem::exists(network.switch_path() + "/ctl"));
    EXPECT_EQ(network.qemu_nic_args(1),
              (std::vector<std::string>{"-nic", "vde,sock=" + network.device_plug(1) +
                                                    ",model=lan9118,mac=02:6d:73:00:01:01"}));
    EXPECT_NE(network.device_plug(1), network.switch_path());
    EthernetBridge bridge(bridge_options(network, {"a", "b"}, milliseconds(1000)));
    FakeDevice device(network.device_plug(0), 0, 2, true);
  }
  EXPECT_EQ(child_processes().size(), before);
  EXPECT_FALSE(std::filesystem::exists(dir));

  // Unshaped: the devices plug into the main switch, the only process.
  EthernetNetwork plain(3, LinkShaping{});
  EXPECT_EQ(child_processes().size(), before + 1);
  EXPECT_EQ(plain.device_plug(2), plain.switch_path());
  EXPECT_FALSE(plain.cut_link(0));
}

// Without vde2 the run says what to install (no switch needed to check).
TEST(EthernetNetworkErrors, MissingProgramsAreNamed) {
  const char* path = std::getenv("PATH");
  const std::string saved = path != nullptr ? path : "";
  ::setenv("PATH", "/nonexistent", 1);
  std::string said;
  try {
    EthernetNetwork network(1, LinkShaping{});
  } catch (const Error& e) {
    said = e.what();
    EXPECT_EQ(e.exit_code(), kExitFailure);
  }
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_NE(said.find("vde_switch"), std::string::npos) << said;
  EXPECT_NE(said.find("apt-get install vde2"), std::string::npos) << said;
}

}  // namespace
}  // namespace mcusplit::host
