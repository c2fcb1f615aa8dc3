// The device runtime's own RAM: what a device running mcusplit's firmware
// keeps in RAM outside the arena the planner lays out. A plan's RAM on a
// device is its arena plus this share, so the planner charges it to every
// device, and the firmware's arena is what is left of the device's RAM:
// MCUSPLIT_FW_RAM_BYTES - kDeviceRuntimeRamBytes (firmware/board.h). The
// firmware's link fails if its RAM outside the arena ever exceeds this
// figure, and ctest firmware_qemu_device checks that a booted device reports
// exactly arena + kDeviceRuntimeRamBytes of static RAM (docs/firmware.md,
// "Memory"). Freestanding, header-only; no digit separators in the two
// figures below (firmware/CMakeLists.txt reads them).
#pragma once

#include <cstdint>

namespace mcusplit::core {

// The main stack. The deepest the device firmware's stack has been in its
// QEMU tests is 2,296 bytes (two inferences with a cluster key, whose HMAC
// runs on every frame read and sent; 2,072 without one, a refused greeting;
// 1,992 to 2,040 over two inferences of the Fashion-MNIST model, TFLM's
// person detection and small MobileNetV2s, the ones on 32 KiB devices
// included). ctest
// firmware_qemu_device fails above 2,560 bytes; the rest of the reserve is
// for what the tests do not reach (interrupt frames at the deepest point,
// error paths in the middle of a run).
inline constexpr int64_t kDeviceStackReserveBytes = 3072;

// The firmware's RAM outside the arena as built (the link map of
// mcusplit_fw_device, GCC 12.2, -O2, default options; docs/firmware.md,
// "Memory"), in bytes:
//   stack reserve (above)                                          3072
//   span records, 178 x 12 (MCUSPLIT_FW_TRACE_RECORDS)             2136
//   compute clock records, 178 x 8 (one per compute span)          1424
//   the device session 1432: its DeviceRuntime 968 (per-peer
//     credit and receive state, 20 x 32 participants), its error
//     message 324, its device name 64, the rest 76                 1432
//   the runtime's frame buffer (one chunk payload; the link
//     transport keeps control payloads in it too)                  1372
//   the link transport 1344: serial frame reader 276 (a tag's 16
//     and its count 4 among them), inbound dispatcher 528 (receive
//     sequence and kept credit, 16 x 32), send sequences 128 (4 x
//     32), frame header 72, frame tagger 224 (HMAC-SHA256), the rest
//     116 (key, nonce, frames refused for their tag)                1344
//   the parsed image's header 120, UART0 8, the session clock 4
//     (.data), and its alignment to 16                              144
//   the device name 64, the session's pointer 4, the clock's
//     state 20, the UART port 4, the end of .bss aligned to 16      100
// The Ethernet firmware (mcusplit_fw_device_eth) fits the same share with
// 86 span and clock records instead of 178: its port (route table,
// 292), retransmission copy and state (1,532) and controller handle (12)
// take their place (docs/firmware.md, "Ethernet").
// 32 participants (MCUSPLIT_FW_MAX_PARTICIPANTS: up to 31 devices and the
// coordinator), twice the 16 devices the largest plans of this project use.
inline constexpr int64_t kDeviceRuntimeRamBytes = 11024;

static_assert(kDeviceStackReserveBytes % 16 == 0 && kDeviceRuntimeRamBytes % 16 == 0,
              "the firmware keeps the arena 16-byte aligned at any RAM size");
static_assert(kDeviceStackReserveBytes < kDeviceRuntimeRamBytes);

}  // namespace mcusplit::core
