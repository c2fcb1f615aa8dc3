#!/usr/bin/env bash
# Builds the firmware (default options) into BUILD_DIR and runs TEST_BINARY
# (tests/firmware/test_qemu_echo.cpp), which starts the echo firmware under
# qemu-system-arm -M mps2-an500 and talks to it over UART0. Exit 77 (the ctest
# skip code) if arm-none-eabi-g++ or qemu-system-arm is missing.
#
#   tests/firmware/run_qemu_tests.sh BUILD_DIR TEST_BINARY [gtest args]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?usage: run_qemu_tests.sh BUILD_DIR TEST_BINARY}"
tests="${2:?usage: run_qemu_tests.sh BUILD_DIR TEST_BINARY}"
shift 2

qemu="${MCUSPLIT_QEMU:-qemu-system-arm}"
for tool in arm-none-eabi-g++ "$qemu"; do
  if ! command -v "$tool" > /dev/null; then
    echo "run_qemu_tests: $tool not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)"
    exit 77
  fi
done

# Default options: a build dir reused with other settings gets them back.
"$here/build_firmware.sh" "$build" -DMCUSPLIT_FW_RAM_BYTES=262144 -DMCUSPLIT_FW_ARENA_BYTES=204800 \
  -DMCUSPLIT_FW_STACK_BYTES=16384 -DMCUSPLIT_FW_PROVISION_BYTES=2097152
MCUSPLIT_FW_BUILD_DIR="$build" MCUSPLIT_QEMU="$qemu" exec "$tests" "$@"
