// The ways `mcusplit run` can run a plan, as enums: the command line's words
// are parsed into them once, at the CLI's edge, and nothing past it compares
// strings.
#pragma once

#include <string>

namespace mcusplit::host {

// What runs the devices: `mcusplit worker` processes over TCP, or one
// emulated Cortex-M7 (QEMU, the device firmware) per device over UART.
enum class RunTargets { Workers, Qemu };

// How emulated devices are linked: each to the coordinator over its UART
// (star), or all to one switched Ethernet (each device's LAN9118 on a
// vde_switch, the coordinator through its bridge).
enum class RunLink { Uart, Ethernet };

// The topology to run in; FromPlan takes the plan's own (a bus runs switched:
// both are one hop between devices).
enum class RunTopology { FromPlan, Switched, Star };

// How emulated devices get their images: QEMU loads each into flash before
// reset, or the coordinator sends it over the device's UART at boot.
enum class ImageDelivery { Loader, Link };

// What a lost device does to the run: ends it, or the plan is re-made for the
// devices left and the run starts again.
enum class OnFailure { Stop, Replan };

// Each parse_* throws mcusplit::Error (bad input) naming the word and the
// ones it accepts; each name() returns the word parse_* takes.
RunTargets parse_run_targets(const std::string& word);
RunTopology parse_run_topology(const std::string& word);  // "" = FromPlan
RunLink parse_run_link(const std::string& word);
ImageDelivery parse_image_delivery(const std::string& word);
OnFailure parse_on_failure(const std::string& word);

const char* name(RunTargets targets);
const char* name(RunTopology topology);
const char* name(RunLink link);
const char* name(ImageDelivery delivery);
const char* name(OnFailure on_failure);

}  // namespace mcusplit::host
