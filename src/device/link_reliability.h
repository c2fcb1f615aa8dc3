// Acknowledgement and retransmission on links that can lose frames (raw
// Ethernet through a switch; docs/protocol.md, "Lossy links"): the rules the
// firmware's Ethernet link and the coordinator's Ethernet bridge share.
//
// Every frame but an Ack is sequenced per (source, destination) stream, as
// on every link. On a lossy link the receiver answers each frame it takes,
// and each duplicate it drops, with an Ack naming the last sequence number of
// that stream it holds in order (cumulative); a frame ahead of the one due (a
// predecessor was lost) is dropped and answered the same way. The sender keeps
// what it sent until it is acknowledged and sends it again when no Ack came
// within the retransmission timeout, which doubles with every retry (a busy
// receiver is not flooded) and resets when an Ack makes progress. A link
// with no progress for the run's receive timeout is dead. Acks are not
// sequenced, acknowledged or counted as frames; over TCP and UART (links that
// do not lose frames) none are sent. Freestanding, header-only.
#pragma once

#include <cstdint>

namespace mcusplit::device {

// Where a sequenced frame stands against the one its stream expects.
enum class Arrival : uint8_t {
  New,        // the one due: take it, then acknowledge it
  Duplicate,  // already taken (its Ack was lost): drop it, acknowledge again
  Ahead,      // a predecessor is missing: drop it, acknowledge what is held
};

// Sequence numbers wrap mod 2^32; a frame is a duplicate when it lies within
// the 2^31 numbers before the one expected.
constexpr Arrival classify_arrival(uint32_t sequence, uint32_t expected) {
  const auto ahead = static_cast<int32_t>(sequence - expected);
  if (ahead == 0) return Arrival::New;
  return ahead < 0 ? Arrival::Duplicate : Arrival::Ahead;
}

// True if `acked` (an Ack's sequence) covers the frame with `sequence`.
constexpr bool acknowledges(uint32_t acked, uint32_t sequence) {
  return static_cast<int32_t>(acked - sequence) >= 0;
}

// Retransmission timing, in milliseconds of the caller's clock.
inline constexpr uint32_t kInitialRetransmitMs = 20;
inline constexpr uint32_t kMaxRetransmitMs = 640;

// The timer of one sender's oldest unacknowledged frame.
class RetransmitTimer {
 public:
  // A first transmission, or an Ack that made progress: the timeout starts
  // over at its initial value.
  void restart(uint32_t now_ms) {
    interval_ms_ = kInitialRetransmitMs;
    sent_ms_ = now_ms;
    progress_ms_ = now_ms;
  }
  // A frame sent while older ones still wait: the no-progress clock keeps
  // running.
  bool due(uint32_t now_ms) const { return now_ms - sent_ms_ >= interval_ms_; }
  // Milliseconds until due (0 if due now).
  uint32_t wait_ms(uint32_t now_ms) const {
    const uint32_t elapsed = now_ms - sent_ms_;
    return elapsed >= interval_ms_ ? 0 : interval_ms_ - elapsed;
  }
  // Nothing was sent again since the last restart (an Ack then answers the
  // first copy: its round trip is a sample, Karn's rule).
  bool first_try() const { return interval_ms_ == kInitialRetransmitMs; }
  // The frames were sent again at `now_ms`: wait twice as long next time.
  void backoff(uint32_t now_ms) {
    sent_ms_ = now_ms;
    interval_ms_ = interval_ms_ >= kMaxRetransmitMs / 2 ? kMaxRetransmitMs : interval_ms_ * 2;
  }
  // No Ack made progress for `limit_ms`: the peer or its link is gone.
  bool dead(uint32_t now_ms, uint32_t limit_ms) const { return now_ms - progress_ms_ >= limit_ms; }

 private:
  uint32_t sent_ms_ = 0;
  uint32_t progress_ms_ = 0;
  uint32_t interval_ms_ = kInitialRetransmitMs;
};

// A running estimate of a quantile of a stream of round trips (microseconds)
// in constant memory, for a device that cannot keep its samples: each
// sample above the estimate nudges it up, each below nudges it down by
// (1 - q) / q times as much, so that it settles where a fraction q of the
// samples lie below it. Steps are 1/64 of the estimate (at least 1 us).
class RoundTripQuantile {
 public:
  // `percent`: 1..99.
  explicit constexpr RoundTripQuantile(uint32_t percent) : percent_(percent) {}
  void add(uint32_t sample_us) {
    if (samples_++ == 0) {
      estimate_us_ = sample_us;
      return;
    }
    const uint32_t step = estimate_us_ / 64 > 0 ? estimate_us_ / 64 : 1;
    if (sample_us > estimate_us_) {
      estimate_us_ += step * percent_ / 100 > 0 ? step * percent_ / 100 : 1;
    } else if (sample_us < estimate_us_) {
      const uint32_t down = step * (100 - percent_) / 100 > 0 ? step * (100 - percent_) / 100 : 1;
      estimate_us_ = estimate_us_ > down ? estimate_us_ - down : 0;
    }
  }
  uint32_t estimate_us() const { return estimate_us_; }
  uint32_t samples() const { return samples_; }

 private:
  uint32_t percent_;
  uint32_t estimate_us_ = 0;
  uint32_t samples_ = 0;
};

}  // namespace mcusplit::device
