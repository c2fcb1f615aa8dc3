// A TCP proxy in front of one `mcusplit worker` that injects faults into the
// wire protocol (docs/protocol.md) for the fault matrix. It passes bytes
// through as whole frames, in each direction, and at a chosen frame (its
// direction, message type, destination and occurrence) applies one action:
// corrupt a byte, truncate it and cut the link, send it twice, swap it with
// the next frame, hold it back, slow the link down from it on, rewrite its
// plan hash, or call back (kill a process) and cut the link there.
//
// Every connection the proxied port receives (the coordinator's, and in the
// switched topology a higher device's) is forwarded to the worker on its own
// pair of sockets, one thread per direction; a frame count is shared by all,
// and an end of file is passed on as a half close (shutdown for writing), so
// a worker's last Error frame reaches the coordinator before the link
// closes, as it would without the proxy.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "device/crc32.h"
#include "device/hmac_sha256.h"
#include "device/protocol.h"

namespace mcusplit::testing {

// Which way a frame goes through the proxy.
enum class Toward {
  Worker,  // from whoever connected (the coordinator, a peer device) to the proxied worker
  Client,  // from the proxied worker back
};

enum class FaultAction {
  Corrupt,          // flip one bit of the payload (of the payload CRC if it is empty)
  Truncate,         // forward the first half of the frame, then cut the connection
  Duplicate,        // forward the frame twice
  Reorder,          // forward the next frame in that direction first, then this one
  Delay,            // hold the frame (and what follows it on that stream) for `delay`
  Throttle,         // from this frame on, that direction carries `bytes_per_second`
  RewritePlanHash,  // put `plan_hash` in the header and reseal the header CRC
  Callback,         // call `callback`, then drop the frame and cut the connection
};

struct Fault {
  Toward toward = Toward::Worker;
  device::MessageType type = device::MessageType::Data;
  int occurrence = 1;    // the Nth frame matching, counted across connections
  int destination = -1;  // participant index; -1: any
  FaultAction action = FaultAction::Corrupt;
  std::chrono::milliseconds delay{0};
  int64_t bytes_per_second = 0;
  uint64_t plan_hash = 0;
  std::function<void()> callback;
};

class FaultProxy {
 public:
  // `target`: the worker's "127.0.0.1:PORT". No fault: a transparent proxy.
  FaultProxy(const std::string& target, std::vector<Fault> faults = {})
      : faults_(std::move(faults)), fired_(faults_.size(), false), seen_(faults_.size(), 0) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    target_port_ = static_cast<uint16_t>(std::stoi(target.substr(target.find(':') + 1)));
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;
  ~FaultProxy() {
    stop_ = true;
    acceptor_.join();
    for (Connection& c : connections_) {
      for (std::thread& t : c.pumps) t.join();
      ::close(c.client);
      ::close(c.worker);
    }
    ::close(listener_);
  }

  const std::string& address() const { return address_; }
  // True once fault `i` has been applied.
  bool fired(size_t i = 0) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return i < fired_.size() && fired_[i];
  }

 private:
  struct Connection {
    int client = -1;
    int worker = -1;
    std::atomic<bool> cut{false};
    std::vector<std::thread> pumps;
  };
  // One direction of a connection.
  struct Stream {
    Stream(Connection* connection, int source, int sink, Toward way)
        : c(connection), from(source), to(sink), toward(way) {}
    Connection* c;
    int from;
    int to;
    Toward toward;
    int64_t bytes_per_second = 0;  // 0: unthrottled
    std::vector<uint8_t> held;     // a frame Reorder holds back
    bool dead = false;             // `to` failed: read and drop the rest
  };

  static sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
  }

  void accept_loop() {
    while (!stop_) {
      pollfd l{listener_, POLLIN, 0};
      if (::poll(&l, 1, 50) <= 0) continue;
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int worker = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = loopback(target_port_);
      if (::connect(worker, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(client);
        ::close(worker);
        continue;
      }
      Connection& c = connections_.emplace_back();
      c.client = client;
      c.worker = worker;
      c.pumps.emplace_back([this, &c] { pump(Stream(&c, c.client, c.worker, Toward::Worker)); });
      c.pumps.emplace_back([this, &c] { pump(Stream(&c, c.worker, c.client, Toward::Client)); });
    }
  }

  // Both ends see the connection close at once, as if the process at one
  // end had died with it; nothing more passes either way.
  static void cut(Connection& c) {
    c.cut = true;
    ::shutdown(c.client, SHUT_RDWR);
    ::shutdown(c.worker, SHUT_RDWR);
  }

  // The frame at the start of `bytes`: its length, 0 if not whole yet, or
  // all `size` bytes if they do not start a frame (passed through as they
  // are). A tagged frame ends with its tag.
  static size_t frame_length(const uint8_t* bytes, size_t size) {
    if (size < device::kHeaderBytes) return 0;
    if (!std::equal(device::kFrameMagic, device::kFrameMagic + 4, bytes)) return size;
    const uint16_t flags = device::load_le16(bytes + device::kOffFlags);
    const size_t frame = device::kFrameOverheadBytes +
                         device::load_le32(bytes + device::kOffPayloadBytes) +
                         ((flags & device::kFlagTagged) != 0 ? device::kTagBytes : 0);
    return size >= frame ? frame : 0;
  }

  // The fault this frame triggers, if any; counts it.
  const Fault* match(Toward toward, const uint8_t* frame, size_t size) {
    if (size < device::kHeaderBytes) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < faults_.size(); ++i) {
      const Fault& f = faults_[i];
      if (fired_[i] || f.toward != toward ||
          frame[device::kOffType] != static_cast<uint8_t>(f.type) ||
          (f.destination >= 0 &&
           device::load_le16(frame + device::kOffDestination) != f.destination)) {
        continue;
      }
      if (++seen_[i] == f.occurrence) {
        fired_[i] = true;
        return &f;
      }
    }
    return nullptr;
  }

  // Sleeps in short slices; false if the proxy is stopping.
  bool sleep_for(std::chrono::milliseconds d) const {
    const auto until = std::chrono::steady_clock::now() + d;
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return !stop_;
  }

  // Writes all of `data` (at the stream's rate if throttled) unless the
  // proxy stops or the far end fails.
  void send(Stream& s, const uint8_t* data, size_t size) {
    const size_t slice = s.bytes_per_second > 0
                             ? static_cast<size_t>(std::max<int64_t>(1, s.bytes_per_second / 100))
                             : size;
    while (size > 0 && !s.dead && !stop_) {
      const size_t n = std::min(slice, size);
      size_t done = 0;
      while (done < n && !stop_) {
        pollfd p{s.to, POLLOUT, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const ssize_t w = ::send(s.to, data + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (w <= 0) {
          s.dead = true;
          return;
        }
        done += static_cast<size_t>(w);
      }
      data += n;
      size -= n;
      if (s.bytes_per_second > 0 && !sleep_for(std::chrono::milliseconds(10))) return;
    }
  }

  // Forwards one frame, applying `f` if it triggered on it. False once the
  // connection is cut.
  bool forward(Stream& s, std::vector<uint8_t> frame, const Fault* f) {
    if (f == nullptr) {
      send(s, frame.data(), frame.size());
      if (!s.held.empty()) {
        send(s, s.held.data(), s.held.size());
        s.held.clear();
      }
      return true;
    }
    switch (f->action) {
      case FaultAction::Corrupt:
        frame[device::kHeaderBytes] ^= 0x01;  // the payload's first byte, or its CRC's
        break;
      case FaultAction::Truncate:
        send(s, frame.data(), frame.size() / 2);
        cut(*s.c);
        return false;
      case FaultAction::Duplicate:
        send(s, frame.data(), frame.size());
        break;
      case FaultAction::Reorder:
        s.held = std::move(frame);
        return true;
      case FaultAction::Delay:
        if (!sleep_for(f->delay)) return false;
        break;
      case FaultAction::Throttle:
        s.bytes_per_second = f->bytes_per_second;
        break;
      case FaultAction::RewritePlanHash:
        device::store_le64(frame.data() + device::kOffPlanHash, f->plan_hash);
        device::store_le32(frame.data() + device::kOffHeaderCrc,
                           device::crc32(frame.data(), device::kOffHeaderCrc));
        break;
      case FaultAction::Callback:
        f->callback();
        cut(*s.c);
        return false;
    }
    return forward(s, std::move(frame), nullptr);
  }

  void pump(Stream s) {
    std::vector<uint8_t> pending;
    uint8_t buf[65536];
    while (!stop_ && !s.c->cut) {
      pollfd p{s.from, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::read(s.from, buf, sizeof buf);
      if (n <= 0) break;
      if (s.dead) continue;  // drained, so that the sender sees no reset
      pending.insert(pending.end(), buf, buf + n);
      size_t at = 0;
      for (size_t size;
           !s.c->cut && (size = frame_length(pending.data() + at, pending.size() - at)) > 0;
           at += size) {
        std::vector<uint8_t> frame(pending.begin() + at, pending.begin() + at + size);
        const Fault* f = match(s.toward, frame.data(), frame.size());
        if (!forward(s, std::move(frame), f)) break;
      }
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(at));
    }
    // A frame held for reordering with none after it: late, not lost.
    if (!s.held.empty() && !s.c->cut) send(s, s.held.data(), s.held.size());
    ::shutdown(s.to, SHUT_WR);
  }

  const std::vector<Fault> faults_;
  mutable std::mutex mutex_;
  std::vector<bool> fired_;
  std::vector<int> seen_;
  int listener_ = -1;
  uint16_t target_port_ = 0;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::list<Connection> connections_;  // stable addresses for the pumps
  std::thread acceptor_;
};

}  // namespace mcusplit::testing
