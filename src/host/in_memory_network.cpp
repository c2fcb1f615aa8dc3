#include "host/in_memory_network.h"

#include <cstring>

#include "device/inbound_dispatcher.h"
#include "device/inbound_frames.h"

namespace mcusplit::host {

using device::ChunkHeader;
using device::LinkEvent;
using device::LinkEventKind;
using device::MessageType;
using device::TransportStatus;

InMemoryNetwork::InMemoryNetwork(int participants, std::chrono::milliseconds receive_timeout,
                                 int32_t max_payload)
    : participants_(participants), receive_timeout_(receive_timeout), max_payload_(max_payload) {
  for (int p = 0; p < participants; ++p) {
    inboxes_.push_back(std::make_unique<Inbox>());
    endpoints_.push_back(std::make_unique<Endpoint>(this, p));
  }
}

device::SessionLink& InMemoryNetwork::endpoint(int p) {
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

template <class Item>
TransportStatus InMemoryNetwork::push(int destination, std::deque<Item> Inbox::*queue, Item item) {
  if (closed_) return TransportStatus::Closed;
  Inbox& inbox = *inboxes_[static_cast<size_t>(destination)];
  {
    const std::lock_guard<std::mutex> lock(inbox.mutex);
    (inbox.*queue).push_back(std::move(item));
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
  e.inference_id = inference_;
  ++counts_.sent;
  e.payload.assign(payload, payload + header.payload_bytes);
  return network_->deliver(header.destination, std::move(e));
}

TransportStatus InMemoryNetwork::Endpoint::grant_credit(int32_t source, int64_t bytes) {
  if (source < 0 || source >= network_->participants_ || source == participant_) {
    return TransportStatus::BadPeer;
  }
  Event e;
  e.inference_id = inference_;
  ++counts_.sent;
  e.event.kind = LinkEventKind::Credit;
  e.event.peer = participant_;
  e.event.credit_bytes = bytes;
  return network_->deliver(source, std::move(e));
}

TransportStatus InMemoryNetwork::Endpoint::poll(LinkEvent* event, int8_t* payload,
                                                int32_t payload_capacity) {
  if (interruption_.pending) return TransportStatus::Closed;
  Inbox& inbox = *network_->inboxes_[static_cast<size_t>(participant_)];
  std::unique_lock<std::mutex> lock(inbox.mutex);
  // Drops what earlier inferences left; true if an event of this one waits.
  const auto current_event = [&] {
    for (auto it = inbox.events.begin(); it != inbox.events.end();) {
      if (device::stale_inference(it->inference_id, inference_)) {
        it = inbox.events.erase(it);
      } else if (it->inference_id == inference_) {
        return true;
      } else {
        ++it;
      }
    }
    return false;
  };
  const auto interrupting = [&] {
    for (const Control& c : inbox.control) {
      if (device::interrupts_run(c.header.type)) return true;
    }
    return false;
  };
  const bool ready = inbox.ready.wait_for(lock, network_->receive_timeout_, [&] {
    return network_->closed_ || interrupting() || current_event();
  });
  if (!ready) return TransportStatus::Timeout;
  if (network_->closed_) {
    error_ = "the in-memory network was closed";
    return TransportStatus::Closed;
  }
  for (auto c = inbox.control.begin(); c != inbox.control.end(); ++c) {
    if (!device::interrupts_run(c->header.type)) continue;
    interruption_ = device::Interruption{true, c->header.type, c->header.inference_id};
    inbox.control.erase(c);
    return TransportStatus::Closed;
  }
  auto it = inbox.events.begin();
  while (it->inference_id != inference_) ++it;  // current_event() found one
  Event e = std::move(*it);
  inbox.events.erase(it);
  lock.unlock();
  ++counts_.received;
  *event = e.event;
  if (static_cast<int64_t>(e.payload.size()) > payload_capacity) {
    return TransportStatus::PayloadTooLarge;
  }
  if (!e.payload.empty()) std::memcpy(payload, e.payload.data(), e.payload.size());
  return TransportStatus::Ok;
}

TransportStatus InMemoryNetwork::Endpoint::wait_control(device::ControlMessage* out,
                                                        uint32_t timeout_ms) {
  Inbox& inbox = *network_->inboxes_[static_cast<size_t>(participant_)];
  std::unique_lock<std::mutex> lock(inbox.mutex);
  const auto timeout = timeout_ms == device::kWaitForever
                           ? std::chrono::milliseconds(std::chrono::hours(24 * 365))
                           : std::chrono::milliseconds(timeout_ms);
  const bool ready = inbox.ready.wait_for(
      lock, timeout, [&] { return !inbox.control.empty() || network_->closed_; });
  if (!ready) return TransportStatus::Timeout;
  if (network_->closed_) {
    error_ = "the in-memory network was closed";
    return TransportStatus::Closed;
  }
  last_control_ = std::move(inbox.control.front());
  inbox.control.pop_front();
  lock.unlock();
  ++counts_.received;
  out->header = last_control_.header;
  out->payload = last_control_.body.data();
  out->payload_bytes = static_cast<uint32_t>(last_control_.body.size());
  return TransportStatus::Ok;
}

TransportStatus InMemoryNetwork::Endpoint::send_control(MessageType type, uint16_t destination,
                                                        uint32_t inference_id,
                                                        const uint8_t* payload,
                                                        uint32_t payload_bytes, uint32_t tensor) {
  if (destination >= network_->participants_ || destination == participant_) {
    return TransportStatus::BadPeer;
  }
  if (type == MessageType::Data || type == MessageType::Credit) return TransportStatus::BadPeer;
  if (payload_bytes > device::kDefaultMaxPayload) return TransportStatus::PayloadTooLarge;
  Control c;
  c.header.type = type;
  c.header.source = static_cast<uint16_t>(participant_);
  c.header.destination = destination;
  c.header.inference_id = inference_id;
  if (device::carries_box(type)) c.header.tensor = tensor;
  c.header.message_bytes = payload_bytes;
  c.header.payload_bytes = payload_bytes;
  if (payload_bytes > 0) c.body.assign(payload, payload + payload_bytes);
  ++counts_.sent;
  return network_->deliver(destination, std::move(c));
}

void InMemoryNetwork::Endpoint::begin_inference(uint32_t id) {
  inference_ = id;
  counts_ = device::LinkFrameCounts{};
  interruption_ = device::Interruption{};
}

void InMemoryNetwork::Endpoint::end_interruption() {
  interruption_ = device::Interruption{};
  // The abandoned inference's chunks and grants will never be taken.
  Inbox& inbox = *network_->inboxes_[static_cast<size_t>(participant_)];
  const std::lock_guard<std::mutex> lock(inbox.mutex);
  for (auto it = inbox.events.begin(); it != inbox.events.end();) {
    it = it->inference_id == inference_ ? inbox.events.erase(it) : std::next(it);
  }
}

}  // namespace mcusplit::host
