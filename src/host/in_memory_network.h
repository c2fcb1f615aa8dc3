// An in-memory network for running every participant of a plan in one
// process: one FIFO queue per (source, destination) pair, each guarded by a
// mutex and a condition variable, and one device::Transport endpoint per
// participant. Sends never block (unbounded queues, like the cost model's
// DMA sends); receives wait up to a timeout, so a plan that never sends what
// someone waits for fails instead of hanging.
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
  InMemoryNetwork(int participants, std::chrono::milliseconds receive_timeout);

  // The transport participant `p` runs with; valid while the network lives.
  device::Transport& endpoint(int p);

  // Wakes every waiting receive with TransportStatus::Closed and refuses
  // further traffic: used when one participant fails, so the others stop
  // instead of waiting out their timeouts.
  void close();

  // Messages sent but never received (0 after a correct run).
  int64_t undelivered_messages() const;

 private:
  struct Message {
    device::MessageHeader header;
    std::vector<int8_t> payload;
  };
  struct Queue {
    mutable std::mutex mutex;
    std::condition_variable ready;
    std::deque<Message> messages;
  };
  class Endpoint final : public device::Transport {
   public:
    Endpoint(InMemoryNetwork* network, int participant)
        : network_(network), participant_(participant) {}
    device::TransportStatus send(const device::MessageHeader& header,
                                 const int8_t* payload) override;
    device::TransportStatus receive(int32_t source, device::MessageHeader* header, int8_t* payload,
                                    int64_t payload_capacity) override;

   private:
    InMemoryNetwork* network_;
    int participant_;
  };

  Queue& queue(int source, int destination);

  int participants_;
  std::chrono::milliseconds receive_timeout_;
  std::atomic<bool> closed_{false};
  std::vector<std::unique_ptr<Queue>> queues_;  // [source * participants + destination]
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace mcusplit::host
