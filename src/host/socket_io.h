// POSIX TCP helpers for the host runtime: an owning file descriptor,
// "HOST:PORT" addresses, and listen / accept / connect with deadlines, so
// that no step of a distributed run can block forever.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mcusplit::host {

using Clock = std::chrono::steady_clock;

// Closes its descriptor on destruction; move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct SocketAddress {
  std::string host;  // dotted IPv4
  uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

// Parses "A.B.C.D:PORT" (port 0 allowed when `allow_port_zero`). Throws
// mcusplit::Error (exit code 2) naming `what` otherwise.
SocketAddress parse_address(const std::string& text, const std::string& what, bool allow_port_zero);

// A listening socket bound to `address` (port 0: the kernel picks one).
// Throws mcusplit::Error (exit code 1) on failure.
UniqueFd listen_on(const SocketAddress& address);
// The port a bound socket got.
uint16_t bound_port(int fd);

// Milliseconds left until `deadline`, at least 0, for poll().
int ms_until(Clock::time_point deadline);

// Accepts one connection before `deadline`; an invalid fd on timeout.
// Throws mcusplit::Error (exit code 1) on a socket error.
UniqueFd accept_until(int listen_fd, Clock::time_point deadline);

// Connects before `deadline`. Throws mcusplit::Error (exit code 1) naming
// the address.
UniqueFd connect_until(const SocketAddress& address, Clock::time_point deadline);

}  // namespace mcusplit::host
