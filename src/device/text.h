// A fixed-capacity text buffer for device messages (banners, errors, fault reports)
// without printf: strings, decimal and hexadecimal numbers. Truncates at the
// capacity; always NUL-terminated.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mcusplit::device {

template <size_t N>
class Text {
 public:
  Text& add(const char* s) {
    while (s != nullptr && *s != '\0') put(*s++);
    return *this;
  }
  Text& dec(uint64_t v) {
    char digits[20];
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) put(digits[--n]);
    return *this;
  }
  // `width` hexadecimal digits, most significant first, no prefix.
  Text& hex(uint32_t v, int width = 8) {
    for (int i = width - 1; i >= 0; --i) put("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
    return *this;
  }
  const char* c_str() const { return buffer_; }
  size_t size() const { return size_; }
  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(buffer_); }

 private:
  void put(char c) {
    if (size_ + 1 < N) {
      buffer_[size_++] = c;
      buffer_[size_] = '\0';
    }
  }
  char buffer_[N] = {};
  size_t size_ = 0;
};

}  // namespace mcusplit::device
