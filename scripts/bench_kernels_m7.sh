#!/usr/bin/env bash
# Instruction counts of the int8 kernels on the emulated Cortex-M7: boots the
# kernel benchmark firmware (firmware/kernel_bench_main.cpp) under
# qemu-system-arm -M mps2-an500 -icount shift=7, where one guest instruction
# takes 128 ns of virtual time and the board's timer ticks every 40 ns, so a
# case's instructions = round(ticks * 40 / 128). Prints a Markdown table:
# case, MACs, instructions, instructions per MAC. Fails if the firmware
# reports a mismatch against its reference or exits non-zero.
#
#   scripts/bench_kernels_m7.sh                       # BUILD_DIR=build/release
#   BUILD_DIR=build-k scripts/bench_kernels_m7.sh
#   ELF=path/to/mcusplit_fw_kernel_bench.elf scripts/bench_kernels_m7.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
ELF=${ELF:-$BUILD_DIR/firmware-device/mcusplit_fw_kernel_bench.elf}
QEMU=${MCUSPLIT_QEMU:-qemu-system-arm}

command -v "$QEMU" > /dev/null || { echo "bench_kernels_m7: $QEMU not found" >&2; exit 1; }
[ -f "$ELF" ] || { echo "bench_kernels_m7: $ELF not found (build with the firmware)" >&2; exit 1; }

status=0
out="$("$QEMU" -M mps2-an500 -nographic -monitor none -serial null \
  -semihosting-config enable=on,target=native -icount shift=7 -kernel "$ELF" 2>&1)" || status=$?
if [ "$status" -ne 0 ] || grep -q MISMATCH <<< "$out"; then
  echo "$out" >&2
  echo "bench_kernels_m7: the firmware failed (exit $status)" >&2
  exit 1
fi

echo "| case | MACs | instructions | instructions/MAC |"
echo "|---|---:|---:|---:|"
# ticks * 40 / 128 = ticks * 5 / 16, rounded to nearest.
awk '/^kernel-bench: .* macs=/ {
  name = $2; macs = 0; ticks = 0
  for (i = 3; i <= NF; ++i) {
    split($i, kv, "=")
    if (kv[1] == "macs") macs = kv[2]
    if (kv[1] == "ticks") ticks = kv[2]
  }
  instr = int((ticks * 5 + 8) / 16)
  printf "| %s | %d | %d | %.3f |\n", name, macs, instr, instr / macs
}' <<< "$out"
awk '/^kernel-bench: calibration/ {
  for (i = 3; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "\nCalibration: a %d-instruction loop measured %d instructions (clock reads included).\n",
    v["loop_instructions"], int((v["ticks"] * 5 + 8) / 16)
}' <<< "$out"
