// The time base a device session runs on in a host process: the steady
// clock in microseconds. No compute clock records: a host's clock is not
// deterministic enough to count instructions by (device/run_timer.h).
#pragma once

#include <chrono>
#include <cstdint>

#include "device/run_timer.h"

namespace mcusplit::host {

class SteadySessionClock final : public device::SessionClock {
 public:
  uint64_t ticks() override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
  uint64_t ticks_per_second() const override { return 1000000; }
  bool compute_clock_records() const override { return false; }
};

}  // namespace mcusplit::host
