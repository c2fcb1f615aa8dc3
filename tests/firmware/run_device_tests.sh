#!/usr/bin/env bash
# Runs TEST_BINARY (tests/firmware/test_qemu_device.cpp): the device firmware
# on emulated Cortex-M7s, driven by `mcusplit run --targets qemu` and by the
# host library. The main build made the firmware (BUILD_DIR/firmware-device);
# this script also builds a variant with a 16 KiB arena (for the refusal
# test) into BUILD_DIR/firmware-small-arena. Exit 77 (the ctest skip code) if
# arm-none-eabi-g++ or qemu-system-arm is missing, or the main build did not
# make the firmware (-DMCUSPLIT_BUILD_FIRMWARE=OFF).
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

small="$build/firmware-small-arena"
if ! MCUSPLIT_FW_TARGET=mcusplit_fw_device "$here/build_firmware.sh" "$small" \
    -DMCUSPLIT_FW_ARENA_BYTES=16384 > "$small.log" 2>&1; then
  cat "$small.log"
  echo "run_device_tests: the small-arena firmware did not build"
  exit 1
fi

MCUSPLIT_FW_DEVICE_ELF="$elf" MCUSPLIT_FW_SMALL_ARENA_ELF="$small/mcusplit_fw_device.elf" \
  MCUSPLIT_QEMU="$qemu" exec "$tests" "$@"
