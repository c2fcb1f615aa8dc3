#!/usr/bin/env bash
# Checks that the freestanding layer (src/core headers, src/kernels/int8_* and op_*,
# src/device: the device runtime and the frame codec) compiles for Cortex-M7 with
# arm-none-eabi-g++. Exit 0 on success, 77 (the ctest SKIP_RETURN_CODE
# convention) if the cross compiler is missing, 1 on CI (tests/support/skip_or_fail.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../support/skip_or_fail.sh"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cxx="${ARM_CXX:-arm-none-eabi-g++}"
if ! command -v "$cxx" > /dev/null; then
  skip_or_fail "check_arm_build: $cxx not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
fi

flags=(-std=c++20 -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16 -O2
       -fno-exceptions -fno-rtti -ffreestanding -Wall -Wextra -Werror -I"$root/src")
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

status=0
compile() {
  if ! "$cxx" "${flags[@]}" -c "$1" -o "$out/$(basename "$1").o"; then
    echo "FAIL $1"
    status=1
  fi
}

for source in "$root"/src/kernels/int8_*.cpp "$root"/src/kernels/op_*.cpp "$root"/src/device/*.cpp; do compile "$source"; done
for header in "$root"/src/core/*.h; do
  # Each header must stand alone.
  printf '#include "%s"\n' "$header" > "$out/$(basename "$header").cpp"
  compile "$out/$(basename "$header").cpp"
done

if [ "$status" -eq 0 ]; then echo "check_arm_build: OK"; fi
exit "$status"
