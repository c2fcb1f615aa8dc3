#!/usr/bin/env bash
# Runs TEST_BINARY (tests/firmware/test_qemu_device.cpp): the device firmware
# on emulated Cortex-M7s, driven by `mcusplit run --targets qemu` and by the
# host library. The main build made both device firmwares in
# BUILD_DIR/firmware-device: the default one (256 KiB of RAM) and
# ram-32k/mcusplit_fw_device_32k.elf (32 KiB of RAM, for a small model on
# 2 small MCUs and for the refusal of a plan whose arena does not fit), and
# the Ethernet twin mcusplit_fw_device_eth.elf (needs vde2). Exit
# 77 (the ctest skip code) if arm-none-eabi-g++ or qemu-system-arm is
# missing, or the main build did not make the firmware
# (-DMCUSPLIT_BUILD_FIRMWARE=OFF).
#
#   tests/firmware/run_device_tests.sh BUILD_DIR TEST_BINARY [gtest args]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?usage: run_device_tests.sh BUILD_DIR TEST_BINARY}"
tests="${2:?usage: run_device_tests.sh BUILD_DIR TEST_BINARY}"
shift 2

runner=run_device_tests
. "$here/require_firmware.sh"
elf="$fw_dir/mcusplit_fw_device.elf"
small="$fw_dir/ram-32k/mcusplit_fw_device_32k.elf"
if [ ! -f "$small" ]; then
  echo "run_device_tests: $small missing although the other firmware was built"
  exit 1
fi

eth="$fw_dir/mcusplit_fw_device_eth.elf"
if [ ! -f "$eth" ]; then
  echo "run_device_tests: $eth missing although the other firmware was built"
  exit 1
fi
for tool in vde_switch wirefilter; do
  command -v "$tool" > /dev/null ||
    skip_or_fail "run_device_tests: $tool not found (apt-get install vde2)"
done

MCUSPLIT_FW_DEVICE_ELF="$elf" MCUSPLIT_FW_DEVICE_32K_ELF="$small" MCUSPLIT_FW_DEVICE_ETH_ELF="$eth" \
  MCUSPLIT_QEMU="$qemu" exec "$tests" "$@"
