#!/usr/bin/env bash
# Instruction counts of the int8 kernels on an emulated core: boots the kernel
# benchmark firmware (firmware/kernel_bench_main.cpp) under qemu-system-arm
# -M QEMU_MACHINE -icount shift=7 (the machine and the clock from the
# firmware_layout.env beside the ELF), where one guest instruction takes
# 128 ns of virtual time and the board's timer ticks every 1e9 / CLOCK_HZ ns
# (40 at 25 MHz, 50 on the AN505's 20 MHz), so a case's instructions =
# round(ticks * (1e9 / CLOCK_HZ) / 128). Prints a Markdown table: case,
# kernel, MACs, work units, outputs, inputs (the input values the calls read:
# their required input boxes), calls (kernel invocations: a split case runs
# its layer as many boxes), instructions, instructions per MAC and per
# work unit. Fails if the firmware reports a mismatch against its reference or
# exits non-zero.
#
#   scripts/bench_kernels_m7.sh                       # BUILD_DIR=build/release, the AN500
#   BOARD=an385 scripts/bench_kernels_m7.sh           # BUILD_DIR/firmware-an385
#   ELF=path/to/mcusplit_fw_kernel_bench.elf scripts/bench_kernels_m7.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
BOARD=${BOARD:-an500}
if [ "$BOARD" = an500 ]; then dir="$BUILD_DIR/firmware-device"; else dir="$BUILD_DIR/firmware-$BOARD"; fi
ELF=${ELF:-$dir/mcusplit_fw_kernel_bench.elf}
QEMU=${MCUSPLIT_QEMU:-qemu-system-arm}

command -v "$QEMU" > /dev/null || { echo "bench_kernels_m7: $QEMU not found" >&2; exit 1; }
[ -f "$ELF" ] || { echo "bench_kernels_m7: $ELF not found (build with the firmware)" >&2; exit 1; }
layout="$(dirname "$ELF")/firmware_layout.env"
machine="$(sed -n 's/^QEMU_MACHINE=//p' "$layout" 2> /dev/null || true)"
clock="$(sed -n 's/^CLOCK_HZ=//p' "$layout" 2> /dev/null || true)"
machine=${machine:-mps2-an500}
clock=${clock:-25000000}

status=0
out="$("$QEMU" -M "$machine" -nographic -monitor none -serial null \
  -semihosting-config enable=on,target=native -icount shift=7 -kernel "$ELF" 2>&1)" || status=$?
if [ "$status" -ne 0 ] || grep -q MISMATCH <<< "$out"; then
  echo "$out" >&2
  echo "bench_kernels_m7: the firmware failed on $machine (exit $status)" >&2
  exit 1
fi

echo "$machine, $clock Hz:"
echo
echo "| case | kernel | MACs | work | outputs | inputs | calls | instructions | instructions/MAC | instructions/work |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
# ticks * (1e9 / clock) / 128, rounded to nearest.
awk -v clock="$clock" '/^kernel-bench: .* macs=/ {
  name = $2; kernel = "-"; macs = 0; work = 0; outputs = 0; inputs = 0; calls = 1; ticks = 0
  for (i = 3; i <= NF; ++i) {
    split($i, kv, "=")
    if (kv[1] == "kernel") kernel = kv[2]
    if (kv[1] == "macs") macs = kv[2]
    if (kv[1] == "work") work = kv[2]
    if (kv[1] == "outputs") outputs = kv[2]
    if (kv[1] == "inputs") inputs = kv[2]
    if (kv[1] == "calls") calls = kv[2]
    if (kv[1] == "ticks") ticks = kv[2]
  }
  instr = int(ticks * (1e9 / clock) / 128 + 0.5)
  per_mac = macs > 0 ? sprintf("%.3f", instr / macs) : "-"
  per_work = work > 0 ? sprintf("%.3f", instr / work) : "-"
  printf "| %s | %s | %d | %d | %d | %d | %d | %d | %s | %s |\n", name, kernel, macs, work, outputs,
    inputs, calls, instr, per_mac, per_work
}' <<< "$out"
awk -v clock="$clock" '/^kernel-bench: calibration/ {
  for (i = 3; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "\nCalibration: a %d-instruction loop measured %d instructions (clock reads included).\n",
    v["loop_instructions"], int(v["ticks"] * (1e9 / clock) / 128 + 0.5)
}' <<< "$out"
