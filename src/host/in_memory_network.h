// An in-memory network for running every participant of a plan in one
// process: one inbox per participant (a FIFO of Data chunks and Credit
// grants, guarded by a mutex and a condition variable) and one
// device::Transport endpoint per participant. The runtimes' credit flow
// control bounds what an inbox holds to what its owner granted; polls wait
// up to a timeout, so a plan that never sends what someone waits for fails
// instead of hanging.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "device/transport.h"

namespace mcusplit::host {

class InMemoryNetwork {
 public:
  InMemoryNetwork(int participants, std::chrono::milliseconds receive_timeout, int32_t max_payload);

  // The transport participant `p` runs with; valid while the network lives.
  device::Transport& endpoint(int p);

  // Wakes every waiting poll with TransportStatus::Closed and refuses
  // further traffic: used when one participant fails, so the others stop
  // instead of waiting out their timeouts.
  void close();

  // Chunks and grants sent but never taken (0 after a correct run).
  int64_t undelivered_events() const;

 private:
  struct Event {
    device::LinkEvent event;
    std::vector<int8_t> payload;
  };
  struct Inbox {
    mutable std::mutex mutex;
    std::condition_variable ready;
    std::deque<Event> events;
  };
  class Endpoint final : public device::Transport {
   public:
    Endpoint(InMemoryNetwork* network, int participant)
        : network_(network), participant_(participant) {}
    int32_t max_payload() const override { return network_->max_payload_; }
    device::TransportStatus send_chunk(const device::ChunkHeader& header,
                                       const int8_t* payload) override;
    device::TransportStatus grant_credit(int32_t source, int64_t bytes) override;
    device::TransportStatus poll(device::LinkEvent* event, int8_t* payload,
                                 int32_t payload_capacity) override;

   private:
    InMemoryNetwork* network_;
    int participant_;
  };

  device::TransportStatus deliver(int destination, Event event);

  int participants_;
  std::chrono::milliseconds receive_timeout_;
  int32_t max_payload_;
  std::atomic<bool> closed_{false};
  std::vector<std::unique_ptr<Inbox>> inboxes_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace mcusplit::host
