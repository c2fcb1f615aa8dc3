// The device runtime's own RAM outside the arena, as the device firmware is
// built (docs/firmware.md, "Memory"): its stack reserve, frame buffers,
// session and transport state and trace records. The planner charges it to
// every device on top of the arena, so that a plan's per-device RAM is the
// device's whole RAM; the firmware sizes its arena as its RAM minus this.
#pragma once

#include <cstdint>

namespace mcusplit::core {

inline constexpr int64_t kDeviceRuntimeRamBytes = 37304;

}  // namespace mcusplit::core
