#include "device/inbound_dispatcher.h"

namespace mcusplit::device {

bool ChunkAssembly::continues(const FrameHeader& h) const {
  return h.type == type_ && h.source == source_ && h.tensor == tensor_ && h.box == box_ &&
         h.chunk_offset == received_;
}

ChunkStep ChunkAssembly::accept(const FrameHeader& h) {
  abandoned_ = false;
  if (h.chunk_offset == 0) {
    abandoned_ = in_progress();
    type_ = h.type;
    source_ = h.source;
    tensor_ = h.tensor;
    box_ = h.box;
    received_ = 0;
  } else if (!in_progress() || !continues(h)) {
    reset();
    return ChunkStep::OutOfOrder;
  }
  received_ += h.payload_bytes;
  if (received_ < h.message_bytes) return ChunkStep::Partial;
  received_ = 0;
  return ChunkStep::Complete;
}

Inbound InboundDispatcher::accept(const FrameHeader& h, const uint8_t* payload, bool running) {
  Inbound in;
  if (!for_self(h)) {
    in.kind = InboundKind::OtherDestination;
    return in;
  }
  if (h.source >= participants_) {
    in.kind = InboundKind::UnknownSource;
    return in;
  }
  switch (sequences_.accept(h.source, h.sequence, &in.expected)) {
    case SequenceVerdict::Ok:
      break;
    case SequenceVerdict::Gap:
      in.kind = InboundKind::SequenceGap;
      return in;
    case SequenceVerdict::UnknownSource:
      in.kind = InboundKind::UnknownSource;
      return in;
  }
  ++received_;
  const bool current = h.inference_id == inference_;
  if (h.type == MessageType::Data) {
    if (stale_inference(h.inference_id, inference_)) {
      in.kind = InboundKind::Stale;
    } else if (running && current) {
      in.kind = InboundKind::Data;
      in.event = data_event(h);
    } else {
      in.kind = InboundKind::DataLater;
    }
    return in;
  }
  if (h.type == MessageType::Credit) {
    if (stale_inference(h.inference_id, inference_)) {
      in.kind = InboundKind::Stale;
      return in;
    }
    // The decoder checked that a Credit payload is kCreditPayloadBytes.
    const uint32_t bytes = load_le32(payload);
    if (running && current) {
      in.kind = InboundKind::Credit;
      in.event = credit_event(h, bytes);
      return in;
    }
    if (kept_credit_id_[h.source] != h.inference_id) {
      kept_credit_id_[h.source] = h.inference_id;
      kept_credit_[h.source] = 0;
    }
    kept_credit_[h.source] += bytes;
    in.kind = InboundKind::CreditKept;
    return in;
  }
  in.kind = InboundKind::Control;
  return in;
}

bool InboundDispatcher::take_kept_credit(LinkEvent* event) {
  for (int32_t p = 0; p < participants_; ++p) {
    if (kept_credit_[p] == 0 || kept_credit_id_[p] != inference_) continue;
    event->kind = LinkEventKind::Credit;
    event->peer = p;
    event->credit_bytes = kept_credit_[p];
    kept_credit_[p] = 0;
    return true;
  }
  return false;
}

void InboundDispatcher::drop_kept_credit() {
  for (int64_t& c : kept_credit_) c = 0;
}

}  // namespace mcusplit::device
