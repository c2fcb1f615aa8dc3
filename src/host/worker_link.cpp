#include "host/worker_link.h"

namespace mcusplit::host {

using device::MessageType;
using device::TransportStatus;

TransportStatus WorkerLink::wait_control(device::ControlMessage* out, uint32_t timeout_ms) {
  const Clock::time_point deadline =
      timeout_ms == device::kWaitForever
          ? Clock::now() + std::chrono::hours(24 * 365)  // no limit (max() would overflow)
          : Clock::now() + std::chrono::milliseconds(timeout_ms);
  const TransportStatus s = transport_.wait_control(&message_, deadline, coordinator_);
  if (s != TransportStatus::Ok) return s;
  device::FrameHeader& h = out->header;
  h = device::FrameHeader{};
  h.type = message_.type;
  h.source = static_cast<uint16_t>(message_.source);
  h.destination = self();
  h.plan_hash = message_.plan_hash;
  h.inference_id = message_.inference_id;
  h.tensor = message_.tensor;
  h.box = message_.box;
  h.message_bytes = static_cast<uint32_t>(message_.body.size());
  h.payload_bytes = h.message_bytes;
  out->payload = message_.body.data();
  out->payload_bytes = h.payload_bytes;
  return TransportStatus::Ok;
}

device::Interruption WorkerLink::interruption() const {
  device::Interruption i;
  if (!transport_.interrupted()) return i;
  const WireMessage* stop = transport_.queued_control(coordinator_, MessageType::Stop);
  if (stop == nullptr) return i;
  i.pending = true;
  i.type = MessageType::Stop;
  i.inference_id = stop->inference_id;
  return i;
}

void WorkerLink::end_interruption() {
  WireMessage stop;
  transport_.wait_control(&stop, Clock::now(), coordinator_, static_cast<int>(MessageType::Stop));
  transport_.drop_link_events();
}

}  // namespace mcusplit::host
