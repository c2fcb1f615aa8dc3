#!/usr/bin/env bash
# Configures and builds the firmware project (firmware/) with the arm-none-eabi
# toolchain file into BUILD_DIR; extra arguments go to cmake's configure step
# (e.g. -DMCUSPLIT_FW_RAM_BYTES=131072). MCUSPLIT_FW_TARGET (environment)
# builds one target instead of all (e.g. mcusplit_fw_echo). Exit 77 (the ctest
# skip code) if the cross compiler is missing; otherwise cmake's status.
#
#   [MCUSPLIT_FW_TARGET=NAME] tests/firmware/build_firmware.sh BUILD_DIR [-DVAR=VALUE ...]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../support/skip_or_fail.sh"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:?usage: build_firmware.sh BUILD_DIR [cmake args]}"
shift

if ! command -v arm-none-eabi-g++ > /dev/null; then
  skip_or_fail "build_firmware: arm-none-eabi-g++ not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
fi

generator=()
if command -v ninja > /dev/null && [ ! -f "$build/CMakeCache.txt" ]; then generator=(-G Ninja); fi
cmake -S "$root/firmware" -B "$build" "${generator[@]}" \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/arm-none-eabi.cmake" "$@"
target=()
if [ -n "${MCUSPLIT_FW_TARGET:-}" ]; then target=(--target "$MCUSPLIT_FW_TARGET"); fi
cmake --build "$build" "${target[@]}"
