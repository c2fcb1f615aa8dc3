// What the coordinator asks of a link layer that lies between its sockets
// and the devices and has figures and failures of its own: the Ethernet
// bridge (host/ethernet_bridge.h), whose per-device TCP connections the
// coordinator talks over while the bridge acknowledges, retransmits and
// relays frames on the switch. Over TCP to workers and over UART there is
// none.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcusplit::host {

// Since the last reset_figures().
struct LinkLayerFigures {
  std::vector<int64_t> retransmissions;  // per device: frames sent to it again
  // Per device: the median and the 10th percentile of its link's round
  // trips (a frame sent once to its Ack), seconds; 0 without a sample. The
  // low percentile is the link's own turnaround; the median also holds the
  // times the device was busy (computing) when a frame came.
  std::vector<double> ack_round_trip_s;
  std::vector<double> ack_round_trip_p10_s;
  int64_t frames_relayed = 0;            // between devices (star), Acks not counted
  int64_t bytes_relayed = 0;             // their whole protocol frames
};

class LinkLayer {
 public:
  // Where the device is on this link ("02:6d:73:00:01:00"), named in
  // messages and reports instead of the socket the coordinator connects to.
  virtual std::string device_address(int device) const = 0;
  // Starts the figures over (each inference's start).
  virtual void reset_figures() = 0;
  virtual LinkLayerFigures figures() const = 0;
  // Why the link to `device` failed (it then closed the coordinator's
  // connection for it), "" while it has not.
  virtual std::string failure(int device) const = 0;
  // Frames sent to `device` that it has acknowledged, since the link layer
  // began (never reset): a device that acknowledges is alive, whether or
  // not it can answer now.
  virtual int64_t acknowledged(int device) const = 0;

 protected:
  ~LinkLayer() = default;
};

}  // namespace mcusplit::host
