// Little-endian encoding of integers, floats, strings and arrays, for the .mq
// format. The writer appends to a string; the reader checks every read
// against the end of its bytes and reports a truncation naming what it read.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"

namespace mcusplit::quant {

class ByteWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void f32(float v) { u32(std::bit_cast<uint32_t>(v)); }  // bit pattern: exact
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes_ += s;
  }
  void i8_array(const std::vector<int8_t>& v) {
    u32(static_cast<uint32_t>(v.size()));
    for (int8_t x : v) u8(static_cast<uint8_t>(x));
  }
  void i32_array(const std::vector<int32_t>& v) {
    u32(static_cast<uint32_t>(v.size()));
    for (int32_t x : v) i32(x);
  }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class ByteReader {
 public:
  // `origin` names the file in error messages.
  ByteReader(const char* data, size_t size, std::string origin)
      : data_(data), size_(size), origin_(std::move(origin)) {}

  uint8_t u8(const char* what) {
    need(1, what);
    return static_cast<uint8_t>(data_[at_++]);
  }
  uint32_t u32(const char* what) {
    need(4, what);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(data_[at_++])} << (8 * i);
    return v;
  }
  uint64_t u64(const char* what) {
    need(8, what);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(data_[at_++])} << (8 * i);
    return v;
  }
  int32_t i32(const char* what) { return static_cast<int32_t>(u32(what)); }
  float f32(const char* what) { return std::bit_cast<float>(u32(what)); }
  std::string str(const char* what) {
    const uint32_t n = u32(what);
    need(n, what);
    std::string s(data_ + at_, n);
    at_ += n;
    return s;
  }
  std::vector<int8_t> i8_array(const char* what) {
    const uint32_t n = u32(what);
    need(n, what);
    std::vector<int8_t> v(n);
    // An empty vector's data() may be null, which memcpy must never get.
    if (n > 0) std::memcpy(v.data(), data_ + at_, n);
    at_ += n;
    return v;
  }
  std::vector<int32_t> i32_array(const char* what) {
    const uint32_t n = u32(what);
    need(uint64_t{n} * 4, what);
    std::vector<int32_t> v(n);
    for (auto& x : v) x = i32(what);
    return v;
  }
  // A count of items each at least `min_item_bytes` long: checked against
  // what is left, so a corrupt count cannot make the reader allocate wildly.
  uint32_t count(const char* what, size_t min_item_bytes) {
    const uint32_t n = u32(what);
    need(uint64_t{n} * min_item_bytes, what);
    return n;
  }
  size_t remaining() const { return size_ - at_; }
  const std::string& origin() const { return origin_; }

 private:
  void need(uint64_t n, const char* what) const {
    if (n > size_ - at_) {
      throw Error("'" + origin_ + "': .mq payload ends in the middle of " + what +
                  " (truncated or corrupt)");
    }
  }

  const char* data_;
  size_t size_;
  size_t at_ = 0;
  std::string origin_;
};

}  // namespace mcusplit::quant
