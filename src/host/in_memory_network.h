// An in-memory network for running every participant of a plan in one
// process: one inbox per participant (a FIFO of Data chunks and Credit
// grants and one of control messages, guarded by a mutex and a condition
// variable) and one device::SessionLink endpoint per participant, so a
// device session runs over it as over a UART or sockets. Chunks and grants
// carry the sender's inference id: a poll drops those of earlier inferences
// and keeps those of later ones; a Stop or Error interrupts a poll. The runtimes' credit flow
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
#include <utility>
#include <vector>

#include "device/session_link.h"
#include "device/transport.h"

namespace mcusplit::host {

class InMemoryNetwork {
 public:
  InMemoryNetwork(int participants, std::chrono::milliseconds receive_timeout, int32_t max_payload);

  // The link participant `p` runs with; valid while the network lives.
  device::SessionLink& endpoint(int p);

  // Wakes every waiting poll with TransportStatus::Closed and refuses
  // further traffic: used when one participant fails, so the others stop
  // instead of waiting out their timeouts.
  void close();
  bool closed() const { return closed_; }

  // Chunks and grants sent but never taken (0 after a correct run).
  int64_t undelivered_events() const;

 private:
  struct Event {
    device::LinkEvent event;
    uint32_t inference_id = device::kNoInference;
    std::vector<int8_t> payload;
  };
  struct Control {
    device::FrameHeader header;
    std::vector<uint8_t> body;
  };
  struct Inbox {
    mutable std::mutex mutex;
    std::condition_variable ready;
    std::deque<Event> events;
    std::deque<Control> control;
  };
  class Endpoint final : public device::SessionLink {
   public:
    Endpoint(InMemoryNetwork* network, int participant)
        : network_(network), participant_(participant) {}
    int32_t max_payload() const override { return network_->max_payload_; }
    device::TransportStatus send_chunk(const device::ChunkHeader& header,
                                       const int8_t* payload) override;
    device::TransportStatus grant_credit(int32_t source, int64_t bytes) override;
    device::TransportStatus poll(device::LinkEvent* event, int8_t* payload,
                                 int32_t payload_capacity) override;

    uint16_t self() const override { return static_cast<uint16_t>(participant_); }
    device::TransportStatus wait_control(device::ControlMessage* out, uint32_t timeout_ms) override;
    device::TransportStatus send_control(device::MessageType type, uint16_t destination,
                                         uint32_t inference_id, const uint8_t* payload,
                                         uint32_t payload_bytes, uint32_t tensor = 0) override;
    void begin_inference(uint32_t id) override;
    device::Interruption interruption() const override { return interruption_; }
    void end_interruption() override;
    device::LinkFrameCounts frame_counts() const override { return counts_; }
    const char* error() const override { return error_; }

   private:
    InMemoryNetwork* network_;
    int participant_;
    uint32_t inference_ = device::kNoInference;
    device::Interruption interruption_;
    device::LinkFrameCounts counts_;
    const char* error_ = "";
    Control last_control_;  // the body wait_control handed out
  };

  device::TransportStatus deliver(int destination, Event event) {
    return push(destination, &Inbox::events, std::move(event));
  }
  device::TransportStatus deliver(int destination, Control control) {
    return push(destination, &Inbox::control, std::move(control));
  }
  // Appends `item` to one of the destination's queues and wakes it.
  template <class Item>
  device::TransportStatus push(int destination, std::deque<Item> Inbox::*queue, Item item);

  int participants_;
  std::chrono::milliseconds receive_timeout_;
  int32_t max_payload_;
  std::atomic<bool> closed_{false};
  std::vector<std::unique_ptr<Inbox>> inboxes_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace mcusplit::host
