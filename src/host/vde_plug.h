// One plug into a vde_switch (libvdeplug): raw Ethernet frames out and in,
// for the coordinator's Ethernet bridge (and the fake devices of its tests).
// A datagram socket: each send is one frame, each receive one frame.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

struct vdeconn;

namespace mcusplit::host {

class VdePlug {
 public:
  // Plugs into the switch whose directory is `switch_path`; `description`
  // names the port in the switch's port list. Throws mcusplit::Error (exit
  // code 1) naming the switch if it cannot.
  VdePlug(const std::string& switch_path, const std::string& description);
  ~VdePlug();
  VdePlug(const VdePlug&) = delete;
  VdePlug& operator=(const VdePlug&) = delete;

  // Readable (poll) when a frame waits.
  int fd() const { return fd_; }
  // Sends one frame; false if the switch did not take it (as on a wire: the
  // frame is lost).
  bool send(const uint8_t* frame, size_t size);
  // Takes one waiting frame into `buffer` (a longer one is cut to
  // `capacity`): its size, 0 if none waits, -1 if the switch is gone.
  ssize_t receive(uint8_t* buffer, size_t capacity);

 private:
  vdeconn* conn_ = nullptr;
  int fd_ = -1;
};

}  // namespace mcusplit::host
