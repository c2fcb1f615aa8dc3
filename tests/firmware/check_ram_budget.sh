#!/usr/bin/env bash
# The RAM region of the firmware's linker script is exactly
# MCUSPLIT_FW_RAM_BYTES: a firmware whose static RAM (stack + .data + .bss
# with the static arena) exceeds its budget must fail to link, saying so.
# Builds the echo firmware in BUILD_DIR with:
#   1. the default budget (256 KiB, 200 KiB arena): links; its static RAM U is
#      read from the image (__ram_used_end - __ram_start);
#   2. a budget of exactly U bytes: links;
#   3. U - 8 bytes: fails, "region `RAM' overflowed by 8 bytes";
#   4. 128 KiB with the 200 KiB arena: fails, region overflow and the linker
#      script's own message.
# Exit 77 (the ctest skip code) if the cross compiler is missing, 1 on CI.
#
#   tests/firmware/check_ram_budget.sh BUILD_DIR
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../support/skip_or_fail.sh"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?usage: check_ram_budget.sh BUILD_DIR}"
if ! command -v arm-none-eabi-g++ > /dev/null; then
  skip_or_fail "check_ram_budget: arm-none-eabi-g++ not found"
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# build BUDGET ARENA: builds and leaves the output in $log; returns the status.
build() {
  rm -f "$build/mcusplit_fw_echo.elf"
  # The echo image only: the device firmware needs more static RAM than the
  # echo's exact budget gives it.
  MCUSPLIT_FW_TARGET=mcusplit_fw_echo "$here/build_firmware.sh" "$build" \
    -DMCUSPLIT_FW_RAM_BYTES="$1" -DMCUSPLIT_FW_ARENA_BYTES="$2" > "$log" 2>&1
}

# The value of a linker symbol of the image, in decimal.
symbol() {
  local hex
  hex=$(arm-none-eabi-nm "$build/mcusplit_fw_echo.elf" | awk -v s="$1" '$3 == s { print $1 }')
  [ -n "$hex" ] || fail "no symbol $1 in the image"
  echo $(( 16#$hex ))
}

fail() {
  echo "check_ram_budget: FAIL: $*"
  sed 's/^/  | /' "$log"
  exit 1
}

build 262144 204800 || fail "the default budget (256 KiB, arena 200 KiB) does not link"
used=$(( $(symbol __ram_used_end) - $(symbol __ram_start) ))
budget=$(symbol __ram_budget_bytes)
[ "$budget" -eq 262144 ] || fail "RAM region is $budget bytes, not 262144"
[ "$used" -gt 204800 ] && [ "$used" -le 262144 ] || fail "static RAM $used bytes is implausible"
echo "check_ram_budget: 256 KiB budget links, static RAM $used bytes"

build "$used" 204800 || fail "a budget of exactly the static RAM ($used bytes) does not link"
echo "check_ram_budget: a budget of exactly $used bytes links"

if build "$(( used - 8 ))" 204800; then fail "a budget of $(( used - 8 )) bytes linked"; fi
grep -q "region \`RAM' overflowed by 8 bytes" "$log" ||
  fail "a budget 8 bytes short failed without the linker's region overflow message"
echo "check_ram_budget: a budget of $(( used - 8 )) bytes fails: region \`RAM' overflowed by 8 bytes"

if build 131072 204800; then fail "a 200 KiB arena linked into a 128 KiB budget"; fi
grep -q "region \`RAM' overflowed by" "$log" || fail "no region overflow message"
grep -q "exceed MCUSPLIT_FW_RAM_BYTES" "$log" || fail "no message from the linker script"
echo "check_ram_budget: a 200 KiB arena in a 128 KiB budget fails:"
grep -E "overflowed|exceed|will not fit" "$log" | sed 's/^.*ld: /  /'
echo "check_ram_budget: OK"
