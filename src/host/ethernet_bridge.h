// The coordinator's port on the emulated Ethernet (`mcusplit run --link
// ethernet`, docs/protocol.md "Raw Ethernet" and "Lossy links"): plugged
// into the run's switch as MAC 02:6d:73:00:00:fe (host/ethernet_addresses.h),
// it gives the coordinator one loopback TCP connection per device that
// carries that device's frames in order, exactly once, as a serial link
// does, so the coordinator's SocketTransport needs no Ethernet of its own.
//
// A background thread does everything on the switch's side:
//  - frames the coordinator writes to a connection (already sequenced) go to
//    their device's MAC reliably: up to `window` unacknowledged per device,
//    go-back-N on the RetransmitTimer (device/link_reliability.h);
//  - frames from the switch are checked (device::check_ethernet_header, a
//    device's source MAC, decode_frame) and dropped and counted by reason if
//    they fail; an Ack for the coordinator pops frames of its stream; a
//    frame or Ack for another device is relayed to that device's MAC with
//    the coordinator's as its source (star topology: acknowledgements and
//    sequence numbers stay end to end); a frame for the coordinator is
//    classified against its stream (device::classify_arrival): a new one is
//    written to the device's connection, a duplicate dropped, one ahead of a
//    lost one dropped, and each answered with an Ack of what is held;
//  - a device whose frames wait with no Ack making progress for
//    `dead_after` (the run's receive timeout) has a dead link: its
//    connection is closed and failure() says why, so the run fails naming
//    the device's link instead of hanging.
// A connection the coordinator closed is read no further, but what it sent
// (the final Stop) is still delivered, and the device's frames still
// acknowledged.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "device/ethernet_frame.h"
#include "device/frame_codec.h"
#include "host/link_layer.h"
#include "host/retransmit_queue.h"
#include "host/socket_io.h"
#include "host/vde_plug.h"

namespace mcusplit::host {

// The largest protocol payload one Ethernet frame carries (a 1,500-byte MTU
// less the frame's header and payload CRC): a plan whose max payload is
// larger cannot run on Ethernet.
inline constexpr uint32_t kEthernetMaxPayload =
    static_cast<uint32_t>(device::kEthernetMtu - device::kFrameOverheadBytes);

// Unacknowledged frames the bridge keeps in flight per device: a LAN9118's
// receive FIFO holds about 7 full frames, so 4 never overrun it.
inline constexpr size_t kBridgeWindow = 4;

// Why the bridge dropped a frame from the switch.
enum class BridgeDrop : uint8_t {
  Short,          // shorter than an Ethernet header and a protocol frame header
  WrongType,      // another EtherType
  NotAddressed,   // for another MAC (a switch floods frames to MACs it has not learnt)
  UnknownSource,  // from a MAC that is no device's
  BadFrame,       // not a protocol frame this run can take (decode_frame failed, or its
                  // source is not the device of its MAC, or its destination no participant)
};
inline constexpr size_t kBridgeDropReasons = 5;
const char* bridge_drop_name(BridgeDrop reason);

// One device's link as the bridge sees it.
struct EthernetLinkCounters {
  int64_t retransmissions = 0;     // frames sent to it again (no Ack in time)
  int64_t duplicates_dropped = 0;  // frames from it that arrived again (an Ack was lost)
  // Frames from its MAC dropped, by BridgeDrop.
  std::array<int64_t, kBridgeDropReasons> dropped{};
  int64_t frames_relayed = 0;  // its frames relayed to another device (Acks not counted)
  int64_t bytes_relayed = 0;   // their whole protocol frames
  std::vector<double> round_trips;  // seconds from a frame sent once to its Ack
  int64_t dropped_total() const {
    int64_t n = 0;
    for (int64_t d : dropped) n += d;
    return n;
  }
};

struct EthernetBridgeOptions {
  std::string switch_path;                     // the run's switch (EthernetNetwork::switch_path)
  std::vector<std::string> device_names;       // one per device, for messages
  std::chrono::milliseconds dead_after{2000};  // no Ack progress this long: a dead link
  size_t window = kBridgeWindow;
};

class EthernetBridge final : public LinkLayer {
 public:
  // Plugs into the switch and listens for the coordinator on one loopback
  // port per device. Throws mcusplit::Error (exit code 1) if it cannot.
  explicit EthernetBridge(const EthernetBridgeOptions& options);
  ~EthernetBridge();
  EthernetBridge(const EthernetBridge&) = delete;
  EthernetBridge& operator=(const EthernetBridge&) = delete;

  // Where the coordinator connects for each device, in device order (one
  // connection each).
  const std::vector<SocketAddress>& addresses() const { return addresses_; }

  // Thread-safe; since construction or the last reset_figures().
  EthernetLinkCounters counters(int device) const;
  // Frames dropped whose source MAC is no device's (or that were too short
  // to have one).
  EthernetLinkCounters unknown_source_counters() const;

  // LinkLayer; thread-safe.
  std::string device_address(int device) const override;
  void reset_figures() override;
  LinkLayerFigures figures() const override;
  std::string failure(int device) const override;
  int64_t acknowledged(int device) const override;

 private:
  struct DeviceLink {
    std::string name;
    UniqueFd listener;                      // until the coordinator connected
    UniqueFd connection;                    // the coordinator's
    bool connection_done = false;           // closed: it accepts and carries no more
    std::vector<uint8_t> from_coordinator;  // bytes read, not yet a whole frame
    std::vector<uint8_t> to_coordinator;    // the device's frames, in order, not yet written
    size_t written = 0;                     // of to_coordinator
    RetransmitQueue outbound;               // to the device
    uint32_t expected = 0;                  // the sequence due next from the device
    bool heard = false;                     // a frame came from its MAC
    bool dead = false;
    explicit DeviceLink(size_t window) : outbound(window) {}
  };

  void run();
  void serve(std::vector<uint8_t>& buffer);
  void read_switch(std::vector<uint8_t>& buffer);
  void on_ethernet_frame(const uint8_t* data, size_t size);
  void take(int device, const device::FrameView& f, const uint8_t* raw);
  void relay(int from, const device::FrameHeader& h, const uint8_t* data, size_t size,
             size_t frame_bytes);
  void send_ack(int device, const device::FrameHeader& about, uint32_t acked);
  void accept_coordinator(int device);
  void read_coordinator(int device);
  void write_coordinator(int device);
  void close_connection(int device);
  void check_link(int device, uint32_t now_ms);
  void fail_link(int device, const std::string& why);
  void count_drop(int device, BridgeDrop reason);
  int device_of(const device::MacAddress& mac) const;
  int device_count() const { return static_cast<int>(links_.size()); }

  std::chrono::milliseconds dead_after_;
  std::vector<DeviceLink> links_;  // by device
  std::vector<device::MacAddress> macs_;
  std::vector<SocketAddress> addresses_;
  VdePlug plug_;
  UniqueFd wake_;  // an eventfd: the destructor's knock
  std::atomic<bool> stopping_{false};

  mutable std::mutex mutex_;  // guards what follows
  std::vector<EthernetLinkCounters> counters_;
  EthernetLinkCounters unknown_;
  std::vector<std::string> failures_;
  std::vector<int64_t> acknowledged_;  // by device, never reset

  std::thread thread_;  // last: it starts once the rest is built
};

}  // namespace mcusplit::host
