// The header of the Data frame that carries one runtime chunk: what every
// transport (sockets, UART) puts on the wire for Transport::send_chunk,
// before it stamps source, plan hash and sequence. Freestanding.
#pragma once

#include <cstdint>

#include "device/frame_codec.h"
#include "device/transport.h"

namespace mcusplit::device {

inline FrameHeader data_frame_header(const ChunkHeader& c, uint32_t inference_id) {
  FrameHeader h;
  h.type = MessageType::Data;
  h.destination = static_cast<uint16_t>(c.destination);
  h.inference_id = inference_id;
  h.tensor = static_cast<uint32_t>(c.tensor);
  h.box = c.box;
  h.message_bytes = static_cast<uint32_t>(c.message_bytes);
  h.chunk_offset = static_cast<uint32_t>(c.chunk_offset);
  h.payload_bytes = static_cast<uint32_t>(c.payload_bytes);
  return h;
}

}  // namespace mcusplit::device
