#!/usr/bin/env bash
# Runs TEST_BINARY (tests/firmware/test_qemu_echo.cpp), which starts the echo
# firmware the main build made (BUILD_DIR/firmware-device, default options)
# under qemu-system-arm -M mps2-an500 and talks to it over UART0. Exit 77 (the
# ctest skip code) if arm-none-eabi-g++ or qemu-system-arm is missing or the
# firmware was not built.
#
#   tests/firmware/run_qemu_tests.sh BUILD_DIR TEST_BINARY [gtest args]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?usage: run_qemu_tests.sh BUILD_DIR TEST_BINARY}"
tests="${2:?usage: run_qemu_tests.sh BUILD_DIR TEST_BINARY}"
shift 2

runner=run_qemu_tests
. "$here/require_firmware.sh"
MCUSPLIT_FW_BUILD_DIR="$fw_dir" MCUSPLIT_QEMU="$qemu" exec "$tests" "$@"
