#include "host/in_memory_network.h"

#include <cstring>

namespace mcusplit::host {

using device::ChunkHeader;
using device::LinkEvent;
using device::LinkEventKind;
using device::TransportStatus;

InMemoryNetwork::InMemoryNetwork(int participants, std::chrono::milliseconds receive_timeout,
                                 int32_t max_payload)
    : participants_(participants), receive_timeout_(receive_timeout), max_payload_(max_payload) {
  for (int p = 0; p < participants; ++p) {
    inboxes_.push_back(std::make_unique<Inbox>());
    endpoints_.push_back(std::make_unique<Endpoint>(this, p));
  }
}

device::Transport& InMemoryNetwork::endpoint(int p) {
  return *endpoints_.at(static_cast<size_t>(p));
}

void InMemoryNetwork::close() {
  closed_ = true;
  for (auto& inbox : inboxes_) {
    // Taking the lock orders the flag before any waiter's predicate check.
    const std::lock_guard<std::mutex> lock(inbox->mutex);
    inbox->ready.notify_all();
  }
}

int64_t InMemoryNetwork::undelivered_events() const {
  int64_t n = 0;
  for (const auto& inbox : inboxes_) {
    const std::lock_guard<std::mutex> lock(inbox->mutex);
    n += static_cast<int64_t>(inbox->events.size());
  }
  return n;
}

TransportStatus InMemoryNetwork::deliver(int destination, Event event) {
  if (closed_) return TransportStatus::Closed;
  Inbox& inbox = *inboxes_[static_cast<size_t>(destination)];
  {
    const std::lock_guard<std::mutex> lock(inbox.mutex);
    inbox.events.push_back(std::move(event));
  }
  inbox.ready.notify_one();
  return TransportStatus::Ok;
}

TransportStatus InMemoryNetwork::Endpoint::send_chunk(const ChunkHeader& header,
                                                      const int8_t* payload) {
  if (header.source != participant_ || header.destination < 0 ||
      header.destination >= network_->participants_ || header.destination == participant_) {
    return TransportStatus::BadPeer;
  }
  if (header.payload_bytes < 0 || header.payload_bytes > network_->max_payload_) {
    return TransportStatus::PayloadTooLarge;
  }
  Event e;
  e.event.kind = LinkEventKind::Data;
  e.event.chunk = header;
  e.payload.assign(payload, payload + header.payload_bytes);
  return network_->deliver(header.destination, std::move(e));
}

TransportStatus InMemoryNetwork::Endpoint::grant_credit(int32_t source, int64_t bytes) {
  if (source < 0 || source >= network_->participants_ || source == participant_) {
    return TransportStatus::BadPeer;
  }
  Event e;
  e.event.kind = LinkEventKind::Credit;
  e.event.peer = participant_;
  e.event.credit_bytes = bytes;
  return network_->deliver(source, std::move(e));
}

TransportStatus InMemoryNetwork::Endpoint::poll(LinkEvent* event, int8_t* payload,
                                                int32_t payload_capacity) {
  Inbox& inbox = *network_->inboxes_[static_cast<size_t>(participant_)];
  std::unique_lock<std::mutex> lock(inbox.mutex);
  const bool ready = inbox.ready.wait_for(
      lock, network_->receive_timeout_, [&] { return !inbox.events.empty() || network_->closed_; });
  if (!ready) return TransportStatus::Timeout;
  if (network_->closed_) return TransportStatus::Closed;
  Event e = std::move(inbox.events.front());
  inbox.events.pop_front();
  lock.unlock();
  *event = e.event;
  if (static_cast<int64_t>(e.payload.size()) > payload_capacity) {
    return TransportStatus::PayloadTooLarge;
  }
  if (!e.payload.empty()) std::memcpy(payload, e.payload.data(), e.payload.size());
  return TransportStatus::Ok;
}

}  // namespace mcusplit::host
