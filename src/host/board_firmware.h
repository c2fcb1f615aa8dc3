// Where the firmware of each emulated board lies in a build
// (firmware/CMakeLists.txt, docs/firmware.md "Boards"): the default board,
// an500, in firmware-device/, every other board B in firmware-B/, side by
// side under the build directory; each with its UART and Ethernet device
// firmware and its firmware_layout.env.
#pragma once

#include <string>

namespace mcusplit::host {

// The build directory that holds firmware-device/, from the default device
// firmware's path (BUILD/firmware-device/mcusplit_fw_device.elf); "" if the
// path does not lie there.
std::string firmware_root(const std::string& default_firmware_elf);

// The device firmware a device planned onto `board` boots: its UART or
// Ethernet build in that board's directory under `root`.
std::string board_firmware(const std::string& root, const std::string& board, bool ethernet);
// That board's kernel bench firmware (`mcusplit calibrate`).
std::string board_kernel_bench(const std::string& root, const std::string& board);

}  // namespace mcusplit::host
