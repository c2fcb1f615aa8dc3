#include "host/retransmit_queue.h"

#include <utility>

namespace mcusplit::host {

void RetransmitQueue::push(uint32_t sequence, std::vector<uint8_t> frame) {
  Entry e;
  e.sequence = sequence;
  e.frame = std::move(frame);
  waiting_.push_back(std::move(e));
}

void RetransmitQueue::pump(uint32_t now_ms, const Send& send) {
  if (!in_flight_.empty() && timer_.due(now_ms)) {
    for (Entry& e : in_flight_) {
      send(e.frame);
      e.resent = true;
    }
    const auto n = static_cast<int64_t>(in_flight_.size());
    retransmissions_ += n;
    stalled_retransmissions_ += n;
    timer_.backoff(now_ms);
  }
  while (in_flight_.size() < window_ && !waiting_.empty()) {
    // The first frame in flight starts the clock; later ones join its wait.
    if (in_flight_.empty()) {
      timer_.restart(now_ms);
      stalled_retransmissions_ = 0;
    }
    in_flight_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    in_flight_.back().sent = std::chrono::steady_clock::now();
    send(in_flight_.back().frame);
  }
}

size_t RetransmitQueue::acknowledge(uint32_t acked, uint32_t now_ms) {
  size_t popped = 0;
  const auto now = std::chrono::steady_clock::now();
  while (!in_flight_.empty() && device::acknowledges(acked, in_flight_.front().sequence)) {
    const Entry& e = in_flight_.front();
    if (!e.resent) round_trips_.push_back(std::chrono::duration<double>(now - e.sent).count());
    in_flight_.pop_front();
    ++popped;
  }
  if (popped > 0) {
    timer_.restart(now_ms);
    stalled_retransmissions_ = 0;
  }
  return popped;
}

void RetransmitQueue::clear() {
  in_flight_.clear();
  waiting_.clear();
}

}  // namespace mcusplit::host
