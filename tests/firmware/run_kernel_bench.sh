#!/usr/bin/env bash
# Boots the kernel benchmark firmware the main build made
# (BUILD_DIR/firmware-device/mcusplit_fw_kernel_bench.elf) under
# qemu-system-arm -M mps2-an500 -icount shift=7, twice: fails unless it exits
# 0, reports every case "ok" (its outputs equal its naive reference) and both
# runs print identical lines (instruction-counted timing is deterministic).
# Exit 77 (the ctest skip code) if arm-none-eabi-g++ or qemu-system-arm is
# missing or the firmware was not built.
#
#   tests/firmware/run_kernel_bench.sh BUILD_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?usage: run_kernel_bench.sh BUILD_DIR}"

runner=run_kernel_bench
. "$here/require_firmware.sh"
elf="$fw_dir/mcusplit_fw_kernel_bench.elf"
if [ ! -f "$elf" ]; then
  echo "run_kernel_bench: $elf missing although the other firmware was built"
  exit 1
fi

run() {
  timeout 120 "$qemu" -M mps2-an500 -nographic -monitor none -serial null \
    -semihosting-config enable=on,target=native -icount shift=7 -kernel "$elf" 2>&1
}

status=0
first="$(run)" || status=$?
echo "$first"
if [ "$status" -ne 0 ]; then
  echo "run_kernel_bench: the firmware exited with $status"
  exit 1
fi
cases="$(grep -c ' macs=.* ok$' <<< "$first" || true)"
if grep -q MISMATCH <<< "$first" || ! grep -q "done cases=$cases mismatches=0 " <<< "$first" ||
    [ "$cases" -lt 9 ]; then
  echo "run_kernel_bench: expected every case ok (found $cases ok)"
  exit 1
fi
second="$(run)" || status=$?
if [ "$status" -ne 0 ]; then
  echo "$second"
  echo "run_kernel_bench: the second run exited with $status"
  exit 1
fi
if [ "$first" != "$second" ]; then
  diff <(echo "$first") <(echo "$second") || true
  echo "run_kernel_bench: two runs gave different output (ticks are not deterministic)"
  exit 1
fi
echo "run_kernel_bench: OK ($cases cases, deterministic)"
