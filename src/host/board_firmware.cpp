#include "host/board_firmware.h"

namespace mcusplit::host {
namespace {

constexpr const char* kDefaultBoard = "an500";
constexpr const char* kDefaultDirectory = "firmware-device";

std::string board_directory(const std::string& root, const std::string& board) {
  return root + "/" + (board == kDefaultBoard ? kDefaultDirectory : "firmware-" + board);
}

}  // namespace

std::string firmware_root(const std::string& default_firmware_elf) {
  const std::string suffix = std::string("/") + kDefaultDirectory + "/mcusplit_fw_device.elf";
  if (default_firmware_elf.size() <= suffix.size() ||
      default_firmware_elf.compare(default_firmware_elf.size() - suffix.size(), suffix.size(),
                                   suffix) != 0) {
    return "";
  }
  return default_firmware_elf.substr(0, default_firmware_elf.size() - suffix.size());
}

std::string board_firmware(const std::string& root, const std::string& board, bool ethernet) {
  return board_directory(root, board) +
         (ethernet ? "/mcusplit_fw_device_eth.elf" : "/mcusplit_fw_device.elf");
}

std::string board_kernel_bench(const std::string& root, const std::string& board) {
  return board_directory(root, board) + "/mcusplit_fw_kernel_bench.elf";
}

}  // namespace mcusplit::host
