#!/usr/bin/env bash
# Boots the kernel benchmark firmware the main build made for BOARD (default
# an500: BUILD_DIR/firmware-device; any other: BUILD_DIR/firmware-BOARD) under
# qemu-system-arm -M QEMU_MACHINE (from the firmware_layout.env beside it)
# -icount shift=7, twice: fails unless it exits 0, reports every case "ok"
# (its outputs equal its reference) with the record's kernel, work, outputs,
# inputs (the values its calls' required input boxes hold), pixels (output
# positions) and calls, gives
# every kernel name 4 cases or more (one of them split into several calls),
# conv, pointwise, depthwise and add a channel-sliced case (_byN), and both runs print identical lines (instruction-counted
# timing is deterministic). Exit 77 (the ctest skip code) if arm-none-eabi-g++
# or qemu-system-arm is missing or the firmware was not built.
#
#   tests/firmware/run_kernel_bench.sh BUILD_DIR [BOARD]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:?usage: run_kernel_bench.sh BUILD_DIR [BOARD]}"
board="${2:-an500}"

runner=run_kernel_bench
. "$here/require_firmware.sh"
if [ "$board" != an500 ]; then fw_dir="$build/firmware-$board"; fi
elf="$fw_dir/mcusplit_fw_kernel_bench.elf"
if [ ! -f "$elf" ]; then
  echo "run_kernel_bench: $elf missing although the other firmware was built"
  exit 1
fi
machine="$(sed -n 's/^QEMU_MACHINE=//p' "$fw_dir/firmware_layout.env")"
if [ "$machine" != "mps2-$board" ]; then
  echo "run_kernel_bench: $fw_dir/firmware_layout.env says QEMU_MACHINE=$machine, not mps2-$board"
  exit 1
fi

run() {
  timeout 120 "$qemu" -M "$machine" -nographic -monitor none -serial null \
    -semihosting-config enable=on,target=native -icount shift=7 -kernel "$elf" 2>&1
}

status=0
first="$(run)" || status=$?
echo "$first"
if [ "$status" -ne 0 ]; then
  echo "run_kernel_bench: the firmware exited with $status on $machine"
  exit 1
fi
case_line=' kernel=[a-z_]* macs=[0-9]* work=[0-9]* outputs=[0-9]* inputs=[0-9]* pixels=[0-9]* calls=[0-9]* ticks=.* ok$'
cases="$(grep -c "$case_line" <<< "$first" || true)"
if grep -q MISMATCH <<< "$first" || ! grep -q "done cases=$cases mismatches=0 " <<< "$first" ||
    [ "$cases" -lt 96 ]; then
  echo "run_kernel_bench: expected every case ok with its kernel, work, outputs, inputs, pixels and calls (found $cases ok)"
  exit 1
fi
# The cost model fits a * work + b * outputs + c * inputs + d * pixels +
# e * calls per kernel: each kernel needs cases enough, some of them split
# into several calls; the kernels split plans cut into channel slices need
# such a case (the packed DSP kernels read every input channel whatever slice
# they write), and the convolutions a narrow one (2 or 4 channels a call: the
# cost per pixel then falls on few outputs).
for kernel in conv pointwise depthwise fully_connected add maxpool averagepool globalaveragepool \
    pad concat softmax reshape; do
  n="$(grep -c " kernel=$kernel " <<< "$first" || true)"
  split="$(grep " kernel=$kernel " <<< "$first" | grep -vc ' calls=1 ' || true)"
  if [ "$n" -lt 4 ] || [ "$split" -lt 1 ]; then
    echo "run_kernel_bench: kernel $kernel has $n cases ($split split), expected 4 or more, one split"
    exit 1
  fi
done
for kernel in conv pointwise depthwise add; do
  if ! grep " kernel=$kernel " <<< "$first" | grep -v ' calls=1 ' | grep -q '^kernel-bench: [^ ]*_by[0-9]'; then
    echo "run_kernel_bench: kernel $kernel has no channel-sliced case (_byN, several calls)"
    exit 1
  fi
done
for kernel in conv pointwise depthwise; do
  if ! grep " kernel=$kernel " <<< "$first" | grep -q '^kernel-bench: [^ ]*_by[24] '; then
    echo "run_kernel_bench: kernel $kernel has no narrow channel-sliced case (_by2 or _by4)"
    exit 1
  fi
done
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
echo "run_kernel_bench: OK on $machine ($cases cases, deterministic)"
