#include "host/socket_io.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace mcusplit::host {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

sockaddr_in to_sockaddr(const SocketAddress& a) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(a.port);
  if (::inet_pton(AF_INET, a.host.c_str(), &sa.sin_addr) != 1) {
    throw Error("bad IPv4 address '" + a.host + "'");
  }
  return sa;
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

// Frames are small and latency matters more than segment count.
void set_nodelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

SocketAddress parse_address(const std::string& text, const std::string& what,
                            bool allow_port_zero) {
  const size_t colon = text.rfind(':');
  const auto bad = [&] {
    return Error(what + " '" + text + "' is not an address of the form A.B.C.D:PORT");
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) throw bad();
  SocketAddress a;
  a.host = text.substr(0, colon);
  in_addr probe{};
  if (::inet_pton(AF_INET, a.host.c_str(), &probe) != 1) throw bad();
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) throw bad();
  const long value = std::stol(port);
  if (value > 65535 || (value == 0 && !allow_port_zero)) throw bad();
  a.port = static_cast<uint16_t>(value);
  return a;
}

UniqueFd listen_on(const SocketAddress& address) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw Error("cannot create a socket: " + errno_text(), kExitFailure);
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in sa = to_sockaddr(address);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    throw Error("cannot listen on " + address.text() + ": " + errno_text(), kExitFailure);
  }
  if (::listen(fd.get(), 64) != 0) {
    throw Error("cannot listen on " + address.text() + ": " + errno_text(), kExitFailure);
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return ntohs(sa.sin_port);
}

int ms_until(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > 1000000 ? 1000000 : static_cast<int>(left);
}

UniqueFd accept_until(int listen_fd, Clock::time_point deadline) {
  for (;;) {
    pollfd p{listen_fd, POLLIN, 0};
    const int r = ::poll(&p, 1, ms_until(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Error("accept failed: " + errno_text(), kExitFailure);
    if (r == 0) return UniqueFd();
    UniqueFd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      throw Error("accept failed: " + errno_text(), kExitFailure);
    }
    set_nodelay(fd.get());
    return fd;
  }
}

UniqueFd connect_until(const SocketAddress& address, Clock::time_point deadline) {
  const sockaddr_in sa = to_sockaddr(address);
  for (;;) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) throw Error("cannot create a socket: " + errno_text(), kExitFailure);
    set_nonblocking(fd.get(), true);
    int r = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd.get(), POLLOUT, 0};
      do {
        r = ::poll(&p, 1, ms_until(deadline));
      } while (r < 0 && errno == EINTR);
      if (r == 0) break;  // timed out
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      errno = err;
      r = err == 0 ? 0 : -1;
    }
    if (r == 0) {
      set_nonblocking(fd.get(), false);
      set_nodelay(fd.get());
      return fd;
    }
    // Workers listen before they announce their address: a refusal is final.
    throw Error("cannot connect to " + address.text() + ": " + errno_text(), kExitFailure);
  }
  throw Error("cannot connect to " + address.text() + ": timed out", kExitFailure);
}

}  // namespace mcusplit::host
