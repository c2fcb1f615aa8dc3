// What `mcusplit run --link ethernet` does to each device's link between its
// emulated NIC and the switch (--link-rate, --link-delay, --loss): a
// wirefilter per device (host/ethernet_network.h). Unset fields leave that
// property alone; none set: the devices plug straight into the switch.
#pragma once

#include <cstdint>
#include <optional>

namespace mcusplit::host {

struct LinkShaping {
  std::optional<int64_t> rate_bits_per_s;  // > 0
  std::optional<int64_t> delay_ms;         // >= 0, each direction
  std::optional<double> loss;              // in [0, 1), each frame, each direction
  bool any() const { return rate_bits_per_s || delay_ms || loss; }
};

}  // namespace mcusplit::host
