#include "host/in_memory_network.h"

#include <cstring>

namespace mcusplit::host {

using device::MessageHeader;
using device::TransportStatus;

InMemoryNetwork::InMemoryNetwork(int participants, std::chrono::milliseconds receive_timeout)
    : participants_(participants), receive_timeout_(receive_timeout) {
  const auto n = static_cast<size_t>(participants);
  for (size_t i = 0; i < n * n; ++i) queues_.push_back(std::make_unique<Queue>());
  for (int p = 0; p < participants; ++p) endpoints_.push_back(std::make_unique<Endpoint>(this, p));
}

device::Transport& InMemoryNetwork::endpoint(int p) {
  return *endpoints_.at(static_cast<size_t>(p));
}

InMemoryNetwork::Queue& InMemoryNetwork::queue(int source, int destination) {
  return *queues_[static_cast<size_t>(source) * static_cast<size_t>(participants_) +
                  static_cast<size_t>(destination)];
}

void InMemoryNetwork::close() {
  closed_ = true;
  for (auto& q : queues_) {
    // Taking the lock orders the flag before any waiter's predicate check.
    const std::lock_guard<std::mutex> lock(q->mutex);
    q->ready.notify_all();
  }
}

int64_t InMemoryNetwork::undelivered_messages() const {
  int64_t n = 0;
  for (const auto& q : queues_) {
    const std::lock_guard<std::mutex> lock(q->mutex);
    n += static_cast<int64_t>(q->messages.size());
  }
  return n;
}

TransportStatus InMemoryNetwork::Endpoint::send(const MessageHeader& header,
                                                const int8_t* payload) {
  const int n = network_->participants_;
  if (header.source != participant_ || header.destination < 0 || header.destination >= n ||
      header.payload_bytes < 0) {
    return TransportStatus::BadPeer;
  }
  if (network_->closed_) return TransportStatus::Closed;
  Message m{header, std::vector<int8_t>(payload, payload + header.payload_bytes)};
  Queue& q = network_->queue(participant_, header.destination);
  {
    const std::lock_guard<std::mutex> lock(q.mutex);
    q.messages.push_back(std::move(m));
  }
  q.ready.notify_one();
  return TransportStatus::Ok;
}

TransportStatus InMemoryNetwork::Endpoint::receive(int32_t source, MessageHeader* header,
                                                   int8_t* payload, int64_t payload_capacity) {
  if (source < 0 || source >= network_->participants_) return TransportStatus::BadPeer;
  Queue& q = network_->queue(source, participant_);
  std::unique_lock<std::mutex> lock(q.mutex);
  const bool ready = q.ready.wait_for(lock, network_->receive_timeout_,
                                      [&] { return !q.messages.empty() || network_->closed_; });
  if (!ready) return TransportStatus::Timeout;
  if (q.messages.empty()) return TransportStatus::Closed;
  Message m = std::move(q.messages.front());
  q.messages.pop_front();
  lock.unlock();
  *header = m.header;
  if (header->payload_bytes > payload_capacity) return TransportStatus::PayloadTooLarge;
  if (!m.payload.empty()) std::memcpy(payload, m.payload.data(), m.payload.size());
  return TransportStatus::Ok;
}

}  // namespace mcusplit::host
