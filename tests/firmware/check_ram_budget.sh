#!/usr/bin/env bash
# The RAM region of the firmware's linker script is exactly the device's RAM,
# MCUSPLIT_FW_RAM_BYTES, and the static arena is that RAM less the runtime's
# own share, kDeviceRuntimeRamBytes (src/core/device_runtime_ram.h): the
# figure the planner charges every device. The device firmware's RAM outside
# the arena must be exactly that share at any RAM size, and a firmware that
# outgrows it must fail to link, saying so. Builds the device firmware in
# BUILD_DIR with:
#   1. the default options: mcusplit_fw_device (256 KiB) and
#      mcusplit_fw_device_32k (32 KiB), and their Ethernet twins _eth, each
#      use exactly their RAM: static RAM (__ram_used_end - __ram_start) = RAM,
#      arena = RAM - the share;
#   2. MCUSPLIT_FW_RAM_BYTES=65536: the same, with a 64 KiB region;
#   3. one trace record more than the default (MCUSPLIT_FW_TRACE_RECORDS):
#      20 bytes outside the arena over the share: the link fails with the
#      region overflow and the linker script's message naming the constant;
#   4. MCUSPLIT_FW_RAM_BYTES equal to the share: configuring fails, saying
#      that it leaves no arena;
#   5. with MAIN_BUILD_DIR, the device firmwares the main build made for the
#      other boards (MAIN_BUILD_DIR/firmware-an385, -an386, -an505: other
#      cores, RAM origins and default RAMs) use exactly their RAM the same way.
# Exit 77 (the ctest skip code) if the cross compiler is missing, 1 on CI.
#
#   tests/firmware/check_ram_budget.sh BUILD_DIR [MAIN_BUILD_DIR]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../support/skip_or_fail.sh"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?usage: check_ram_budget.sh BUILD_DIR [MAIN_BUILD_DIR]}"
main_build="${2:-}"
if ! command -v arm-none-eabi-g++ > /dev/null; then
  skip_or_fail "check_ram_budget: arm-none-eabi-g++ not found"
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

fail() {
  echo "check_ram_budget: FAIL: $*"
  sed 's/^/  | /' "$log"
  exit 1
}

header="$here/../../src/core/device_runtime_ram.h"
share=$(sed -n 's/.*kDeviceRuntimeRamBytes = \([0-9]*\);.*/\1/p' "$header")
[ -n "$share" ] || fail "no kDeviceRuntimeRamBytes in $header"

# build TARGET [cmake args]: builds one image, output in $log; returns the status.
build() {
  local target="$1"
  shift
  rm -f "$build/mcusplit_fw_device.elf" "$build/ram-32k/mcusplit_fw_device_32k.elf" \
    "$build/mcusplit_fw_device_eth.elf" "$build/ram-32k/mcusplit_fw_device_eth_32k.elf"
  MCUSPLIT_FW_TARGET="$target" "$here/build_firmware.sh" "$build" -DMCUSPLIT_FW_RAM_BYTES=262144 \
    -UMCUSPLIT_FW_TRACE_RECORDS -UMCUSPLIT_FW_ETH_TRACE_RECORDS "$@" > "$log" 2>&1
}

# The value of a linker symbol of an image, in decimal.
symbol() {
  local hex
  hex=$(arm-none-eabi-nm "$1" | awk -v s="$2" '$3 == s { print $1 }')
  [ -n "$hex" ] || fail "no symbol $2 in $1"
  echo $(( 16#$hex ))
}

# exact ELF RAM: the image's RAM region is RAM bytes, all of it in use, the
# arena RAM - share; the build's layout file says so too.
exact() {
  local elf="$1" ram="$2"
  local used arena budget
  [ -f "$elf" ] || fail "$elf was not built"
  budget=$(symbol "$elf" __ram_budget_bytes)
  used=$(( $(symbol "$elf" __ram_used_end) - $(symbol "$elf" __ram_start) ))
  arena=$(( $(symbol "$elf" __arena_end) - $(symbol "$elf" __arena_start) ))
  [ "$budget" -eq "$ram" ] || fail "$elf: RAM region of $budget bytes, not $ram"
  [ "$arena" -eq $(( ram - share )) ] || fail "$elf: arena of $arena bytes, not $ram - $share"
  [ "$used" -eq "$ram" ] ||
    fail "$elf: static RAM $used bytes, not the arena $arena + kDeviceRuntimeRamBytes $share"
  grep -qx "ARENA_BYTES=$arena" "$(dirname "$elf")/firmware_layout.env" ||
    fail "$(dirname "$elf")/firmware_layout.env does not say ARENA_BYTES=$arena"
  grep -qx "RUNTIME_RAM_BYTES=$share" "$(dirname "$elf")/firmware_layout.env" ||
    fail "$(dirname "$elf")/firmware_layout.env does not say RUNTIME_RAM_BYTES=$share"
  echo "check_ram_budget: $(basename "$elf"): RAM $ram = arena $arena + runtime $share, all in use"
}

build all || fail "the default options do not build"
exact "$build/mcusplit_fw_device.elf" 262144
exact "$build/ram-32k/mcusplit_fw_device_32k.elf" 32768
# The Ethernet twins: their retransmission copy and route table take the
# place of trace records (MCUSPLIT_FW_ETH_TRACE_RECORDS).
exact "$build/mcusplit_fw_device_eth.elf" 262144
exact "$build/ram-32k/mcusplit_fw_device_eth_32k.elf" 32768

build mcusplit_fw_device -DMCUSPLIT_FW_RAM_BYTES=65536 || fail "a 64 KiB device does not build"
exact "$build/mcusplit_fw_device.elf" 65536

records=$(sed -n 's/^MCUSPLIT_FW_TRACE_RECORDS:STRING=//p' "$build/CMakeCache.txt")
[ -n "$records" ] || fail "no MCUSPLIT_FW_TRACE_RECORDS in the cache"
if build mcusplit_fw_device -DMCUSPLIT_FW_TRACE_RECORDS=$(( records + 1 )); then
  fail "a firmware with $(( records + 1 )) trace records (more RAM than kDeviceRuntimeRamBytes) linked"
fi
grep -q "region \`RAM' overflowed by" "$log" || fail "no region overflow message"
grep -q "exceeds kDeviceRuntimeRamBytes (src/core/device_runtime_ram.h)" "$log" ||
  fail "no message from the linker script naming kDeviceRuntimeRamBytes"
echo "check_ram_budget: $(( records + 1 )) trace records outgrow the runtime's share:"
grep -E "overflowed|exceeds" "$log" | sed 's/^.*ld: /  /'
eth_records=$(sed -n 's/^MCUSPLIT_FW_ETH_TRACE_RECORDS:STRING=//p' "$build/CMakeCache.txt")
[ -n "$eth_records" ] || fail "no MCUSPLIT_FW_ETH_TRACE_RECORDS in the cache"
if build mcusplit_fw_device_eth -DMCUSPLIT_FW_ETH_TRACE_RECORDS=$(( eth_records + 1 )); then
  fail "an Ethernet firmware with $(( eth_records + 1 )) trace records linked"
fi
grep -q "exceeds kDeviceRuntimeRamBytes" "$log" || fail "no overflow message for the Ethernet firmware"
echo "check_ram_budget: $(( eth_records + 1 )) trace records outgrow the Ethernet firmware's share"

if build mcusplit_fw_device -DMCUSPLIT_FW_RAM_BYTES="$share"; then
  fail "a device whose RAM is only the runtime's share configured"
fi
grep -q "must exceed the runtime's own share" "$log" || fail "no message about the missing arena"
echo "check_ram_budget: a RAM of $share bytes leaves no arena:"
grep -A4 "CMake Error" "$log" | sed -n '2,4p' | sed 's/^ */  /'

if [ -n "$main_build" ]; then
  for board in an385 an386 an505; do
    dir="$main_build/firmware-$board"
    ram=$(sed -n 's/^RAM_BYTES=//p' "$dir/firmware_layout.env" 2> /dev/null || true)
    [ -n "$ram" ] || fail "no firmware for $board in $dir (the main build makes it)"
    grep -qx "BOARD=$board" "$dir/firmware_layout.env" || fail "$dir/firmware_layout.env is not $board's"
    exact "$dir/mcusplit_fw_device.elf" "$ram"
    exact "$dir/mcusplit_fw_device_eth.elf" "$ram"
  done
fi
echo "check_ram_budget: OK"
