// The sending end of one stream on a lossy link (device/link_reliability.h,
// docs/protocol.md "Lossy links"), as the coordinator's Ethernet bridge keeps
// it per device: frames wait their turn, up to `window` of them are in
// flight unacknowledged, an Ack pops what it covers, and when the oldest
// one's RetransmitTimer is due every frame in flight goes again, in order
// (go-back-N: the receiver drops whatever follows a lost frame).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "device/link_reliability.h"

namespace mcusplit::host {

class RetransmitQueue {
 public:
  using Send = std::function<void(const std::vector<uint8_t>& frame)>;

  explicit RetransmitQueue(size_t window) : window_(window < 1 ? 1 : window) {}

  // Queues `frame` (as it goes on the wire), the stream's frame `sequence`.
  void push(uint32_t sequence, std::vector<uint8_t> frame);
  // Sends, through `send`, everything due at `now_ms`: all frames in flight
  // again if the timer is due (then it backs off), and the waiting ones the
  // window admits.
  void pump(uint32_t now_ms, const Send& send);
  // An Ack naming `acked`: pops the frames it covers and returns how many
  // (more than 0: progress, the timer starts over).
  size_t acknowledge(uint32_t acked, uint32_t now_ms);
  // Frames in flight and no progress for `limit_ms`: the link is dead.
  bool dead(uint32_t now_ms, uint32_t limit_ms) const {
    return !in_flight_.empty() && timer_.dead(now_ms, limit_ms);
  }
  // Milliseconds until pump() has something to send again; -1 if nothing
  // is in flight.
  int64_t wait_ms(uint32_t now_ms) const {
    return in_flight_.empty() ? -1 : static_cast<int64_t>(timer_.wait_ms(now_ms));
  }
  bool empty() const { return in_flight_.empty() && waiting_.empty(); }
  // Drops everything (a dead link).
  void clear();

  // Frames sent again, in all; and since the last progress.
  int64_t retransmissions() const { return retransmissions_; }
  int64_t retransmissions_since_progress() const { return stalled_retransmissions_; }
  // The round trips (seconds from sending to the Ack that covered it) of
  // the frames acknowledged since the last call that were sent only once
  // (Karn: a retransmitted frame's Ack may answer either copy).
  std::vector<double> take_round_trips() { return std::exchange(round_trips_, {}); }

 private:
  struct Entry {
    uint32_t sequence = 0;
    std::vector<uint8_t> frame;
    std::chrono::steady_clock::time_point sent;
    bool resent = false;
  };
  size_t window_;
  std::deque<Entry> in_flight_;  // sent, not yet acknowledged, oldest first
  std::deque<Entry> waiting_;    // not sent yet
  device::RetransmitTimer timer_;
  int64_t retransmissions_ = 0;
  int64_t stalled_retransmissions_ = 0;
  std::vector<double> round_trips_;
};

}  // namespace mcusplit::host
