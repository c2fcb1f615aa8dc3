#include "ethernet_port.h"

#include <cstring>

#include "clock.h"

namespace mcusplit::fw {

using device::EthernetVerdict;
using device::MacAddress;

void EthernetPort::set_route(uint16_t participant, const MacAddress& mac) {
  if (participant >= device::kMaxParticipants) return;
  routes_[participant] = mac;
  routed_[participant] = true;
  routes_known_ = true;
}

bool EthernetPort::known_source(const MacAddress& mac) const {
  if (!routes_known_) return true;
  for (int32_t i = 0; i < device::kMaxParticipants; ++i) {
    if (routed_[i] && routes_[i] == mac) return true;
  }
  return false;
}

uint8_t EthernetPort::next_byte() {
  if (word_bytes_ == 0) {
    word_ = words_left_ > 0 ? nic_.rx_word() : 0;
    if (words_left_ > 0) --words_left_;
    word_bytes_ = 4;
  }
  const auto b = static_cast<uint8_t>(word_);
  word_ >>= 8;
  --word_bytes_;
  return b;
}

void EthernetPort::drain_frame() {
  while (words_left_ > 0) {
    nic_.rx_word();
    --words_left_;
  }
  bytes_left_ = 0;
  word_bytes_ = 0;
}

bool EthernetPort::open_frame() {
  const uint32_t length = nic_.rx_begin();  // frame check sequence included
  if (length == 0) return false;
  words_left_ = Lan9118::rx_words(length);
  word_bytes_ = 0;
  const uint32_t size = length >= 4 ? length - 4 : 0;
  if (size < device::kEthernetHeaderBytes + device::kHeaderBytes) {
    ++drops_.short_frames;
    drain_frame();
    return false;
  }
  uint8_t header[device::kEthernetHeaderBytes];
  for (uint8_t& b : header) b = next_byte();
  const EthernetVerdict v = device::check_ethernet_header(header, size, mac_);
  const MacAddress source = device::source_mac(header);
  if (v == EthernetVerdict::Ok && !known_source(source)) {
    ++drops_.unknown_source;
  } else if (v == EthernetVerdict::WrongType) {
    ++drops_.wrong_type;
  } else if (v == EthernetVerdict::NotAddressed) {
    ++drops_.not_addressed;
  } else if (v == EthernetVerdict::Ok) {
    if (!routes_known_) last_source_ = source;
    bytes_left_ = size - static_cast<uint32_t>(device::kEthernetHeaderBytes);
    frame_start_ = true;
    return true;
  }
  drain_frame();
  return false;
}

uint32_t EthernetPort::read(uint8_t* buffer, uint32_t capacity, uint32_t wait_ms,
                            bool* starts_frame) {
  if (bytes_left_ == 0) {
    const Deadline deadline(wait_ms);
    for (;;) {
      if (open_frame()) break;
      if (nic_.rx_pending()) continue;  // the next one, at once
      if (deadline.expired()) return 0;
      nic_.wait_rx(wait_ms);  // a frame dropped above may have used up some of it
    }
  }
  *starts_frame = frame_start_;
  frame_start_ = false;
  // Up to the end of this frame's protocol bytes: whole FIFO words straight
  // into the buffer, bytes of a word begun before one by one.
  const uint32_t n = capacity < bytes_left_ ? capacity : bytes_left_;
  uint32_t i = 0;
  while (i < n && word_bytes_ > 0) buffer[i++] = next_byte();
  for (; i + 4 <= n; i += 4) {
    const uint32_t word = nic_.rx_word();
    --words_left_;
    std::memcpy(buffer + i, &word, sizeof(word));
  }
  while (i < n) buffer[i++] = next_byte();
  bytes_left_ -= n;
  if (bytes_left_ == 0) drain_frame();  // the frame check sequence
  return n;
}

bool EthernetPort::begin_frame(uint16_t destination, uint32_t bytes) {
  const MacAddress* to = nullptr;
  if (routes_known_) {
    if (destination >= device::kMaxParticipants || !routed_[destination]) return false;
    to = &routes_[destination];
  } else {
    if (last_source_.is_zero()) return false;
    to = &last_source_;
  }
  uint8_t header[device::kEthernetHeaderBytes];
  device::encode_ethernet_header(*to, mac_, header);
  tx_frame_bytes_ = static_cast<uint32_t>(device::kEthernetHeaderBytes) + bytes;
  tx_left_ = bytes;
  nic_.tx_segment(header, sizeof(header), tx_frame_bytes_, true, bytes == 0);
  return true;
}

void EthernetPort::write(const uint8_t* data, uint32_t bytes) {
  if (bytes == 0 || tx_left_ == 0) return;
  if (bytes > tx_left_) bytes = tx_left_;
  tx_left_ -= bytes;
  nic_.tx_segment(data, bytes, tx_frame_bytes_, false, tx_left_ == 0);
}

}  // namespace mcusplit::fw
