#include "device/serial_frame_reader.h"

#include "device/crc32.h"

namespace mcusplit::device {
namespace {

// True if p[0, n) could begin a frame: the bytes present of the magic match.
bool is_magic_prefix(const uint8_t* p, uint32_t n) {
  for (uint32_t i = 0; i < n && i < sizeof(kFrameMagic); ++i) {
    if (p[i] != kFrameMagic[i]) return false;
  }
  return true;
}

// decode_header filled the header (its CRC matched) for every status after
// the CRC check.
bool header_is_sound(DecodeStatus s) {
  return s != DecodeStatus::BadMagic && s != DecodeStatus::BadVersion && s != DecodeStatus::Short &&
         s != DecodeStatus::BadCrc;
}

uint32_t min_u32(uint32_t a, size_t b) {
  return b < a ? static_cast<uint32_t>(b) : a;
}

}  // namespace

const char* reader_event_name(ReaderEventKind kind) {
  switch (kind) {
    case ReaderEventKind::None:
      return "none";
    case ReaderEventKind::Header:
      return "header";
    case ReaderEventKind::Payload:
      return "payload";
    case ReaderEventKind::FrameOk:
      return "frame ok";
    case ReaderEventKind::FrameBadCrc:
      return "frame with bad payload crc";
    case ReaderEventKind::HeaderRejected:
      return "header rejected";
  }
  return "unknown event";
}

size_t SerialFrameReader::feed(const uint8_t* data, size_t size, ReaderEvent* event) {
  *event = ReaderEvent{};
  if (data == nullptr) size = 0;
  size_t used = 0;
  while (used < size) {
    switch (state_) {
      case State::Scan: {
        const uint8_t byte = data[used++];
        ++stats_.bytes_fed;
        if (scan_byte(byte, event)) return used;
        break;
      }
      case State::Payload: {
        const uint32_t n = min_u32(header_.payload_bytes - payload_done_, size - used);
        event->kind = ReaderEventKind::Payload;
        event->data = data + used;
        event->size = n;
        event->offset = payload_done_;
        crc_ = crc32_update(crc_, data + used, n);
        payload_done_ += n;
        used += n;
        stats_.bytes_fed += n;
        if (payload_done_ == header_.payload_bytes) state_ = State::Crc;
        return used;
      }
      case State::Crc: {
        crc_bytes_[crc_have_++] = data[used++];
        ++stats_.bytes_fed;
        if (crc_have_ == kCrcBytes) {
          if ((header_.flags & kFlagTagged) != 0) {
            state_ = State::Tag;
            break;
          }
          finish_frame(load_le32(crc_bytes_) == crc_, event);
          return used;
        }
        break;
      }
      case State::Tag: {
        tag_[tag_have_++] = data[used++];
        ++stats_.bytes_fed;
        if (tag_have_ == kTagBytes) {
          finish_frame(load_le32(crc_bytes_) == crc_, event);
          return used;
        }
        break;
      }
      case State::Skip: {
        const uint32_t n = min_u32(skip_left_, size - used);
        used += n;
        stats_.bytes_fed += n;
        skip_left_ -= n;
        if (skip_left_ == 0) {
          stats_.frame_bytes_other += skip_total_;
          state_ = State::Scan;
        }
        break;
      }
    }
  }
  return used;
}

ReaderEvent SerialFrameReader::push(uint8_t byte) {
  pushed_ = byte;
  ReaderEvent event;
  feed(&pushed_, 1, &event);
  return event;
}

bool SerialFrameReader::scan_byte(uint8_t byte, ReaderEvent* event) {
  buffer_[buffered_++] = byte;
  if (buffered_ <= sizeof(kFrameMagic)) {
    if (byte != kFrameMagic[buffered_ - 1]) resync();
    return false;
  }
  if (buffered_ < kHeaderBytes) return false;

  FrameHeader h;
  size_t frame_bytes = 0;
  const DecodeStatus status = decode_header(buffer_, kHeaderBytes, config_, &h, &frame_bytes);
  if (status == DecodeStatus::Ok) {
    header_ = h;
    payload_done_ = 0;
    crc_ = 0;
    crc_have_ = 0;
    tag_have_ = 0;
    state_ = h.payload_bytes > 0 ? State::Payload : State::Crc;
    event->kind = ReaderEventKind::Header;
    return true;
  }

  ++stats_.headers_rejected;
  event->kind = ReaderEventKind::HeaderRejected;
  event->status = status;
  event->header_sound = header_is_sound(status);
  if (event->header_sound) header_ = h;
  if (frame_bytes > kHeaderBytes) {
    // A real frame (its header CRC matched, its length is acceptable) that
    // this receiver refuses: skip it whole rather than scan its payload.
    event->frame_skipped = true;
    ++stats_.frames_skipped;
    skip_total_ = static_cast<uint32_t>(frame_bytes);
    skip_left_ = skip_total_ - static_cast<uint32_t>(kHeaderBytes);
    buffered_ = 0;
    state_ = State::Skip;
  } else {
    resync();
  }
  return true;
}

void SerialFrameReader::resync() {
  // Drop at least the candidate's first byte (its false magic), then up to
  // the next byte where a frame could begin; that rest is scanned on as the
  // new candidate. It is shorter than a header, so it can only grow.
  uint32_t drop = 1;
  while (drop < buffered_ && !is_magic_prefix(buffer_ + drop, buffered_ - drop)) ++drop;
  for (uint32_t i = drop; i < buffered_; ++i) buffer_[i - drop] = buffer_[i];
  buffered_ -= drop;
  stats_.garbage_bytes += drop;
}

void SerialFrameReader::finish_frame(bool ok, ReaderEvent* event) {
  const uint64_t bytes = frame_bytes_for(header_.payload_bytes, (header_.flags & kFlagTagged) != 0);
  if (ok) {
    ++stats_.frames_ok;
    stats_.frame_bytes_ok += bytes;
    event->kind = ReaderEventKind::FrameOk;
  } else {
    ++stats_.frames_bad_crc;
    stats_.frame_bytes_other += bytes;
    event->kind = ReaderEventKind::FrameBadCrc;
  }
  state_ = State::Scan;
  buffered_ = 0;
}

uint64_t SerialFrameReader::pending_bytes() const {
  switch (state_) {
    case State::Scan:
      return buffered_;
    case State::Payload:
      return kHeaderBytes + payload_done_;
    case State::Crc:
      return kHeaderBytes + static_cast<uint64_t>(header_.payload_bytes) + crc_have_;
    case State::Tag:
      return kHeaderBytes + static_cast<uint64_t>(header_.payload_bytes) + kCrcBytes + tag_have_;
    case State::Skip:
      return skip_total_ - skip_left_;
  }
  return 0;
}

void SerialFrameReader::reset() {
  stats_.garbage_bytes += pending_bytes();
  state_ = State::Scan;
  buffered_ = 0;
  payload_done_ = 0;
  crc_ = 0;
  crc_have_ = 0;
  tag_have_ = 0;
  skip_left_ = 0;
  skip_total_ = 0;
}

}  // namespace mcusplit::device
