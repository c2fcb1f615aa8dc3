#include "host/vde_plug.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/error.h"

// libvdeplug's header declares C functions without saying so.
extern "C" {
#include <libvdeplug.h>
}

namespace mcusplit::host {

VdePlug::VdePlug(const std::string& switch_path, const std::string& description) {
  // libvdeplug takes non-const strings.
  std::vector<char> url(switch_path.begin(), switch_path.end());
  url.push_back('\0');
  std::vector<char> descr(description.begin(), description.end());
  descr.push_back('\0');
  conn_ = vde_open(url.data(), descr.data(), nullptr);
  if (conn_ == nullptr) {
    throw Error(
        "cannot plug into the Ethernet switch '" + switch_path + "': " + std::strerror(errno),
        kExitFailure);
  }
  fd_ = vde_datafd(conn_);
  // Receives return at once when nothing waits (poll says when something does).
  const int flags = ::fcntl(fd_, F_GETFL, 0);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

VdePlug::~VdePlug() {
  if (conn_ != nullptr) vde_close(conn_);
}

bool VdePlug::send(const uint8_t* frame, size_t size) {
  for (;;) {
    const ssize_t n = vde_send(conn_, frame, size, 0);
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(size);
  }
}

ssize_t VdePlug::receive(uint8_t* buffer, size_t capacity) {
  for (;;) {
    const ssize_t n = vde_recv(conn_, buffer, capacity, 0);
    if (n > 0) return n;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
  }
}

}  // namespace mcusplit::host
