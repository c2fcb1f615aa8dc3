#!/usr/bin/env bash
# The device firmware the main build made for BOARD (BUILD_DIR/firmware-BOARD;
# an500: firmware-device) runs a plan: the Fashion-MNIST model on 2 devices
# (star), `mcusplit run --targets qemu --firmware ELF --repeat 2` over the
# UARTs and, with vde2 installed, over Ethernet (the _eth firmware), each
# output bit-exact with `mcusplit infer`. The host boots the machine the
# layout file beside the ELF names (QEMU_MACHINE); the firmware checks the
# core it runs on (CPUID), so a run on another machine fails. Exit 77 (the
# ctest skip code) if arm-none-eabi-g++ or qemu-system-arm is missing or the
# firmware was not built.
#
#   tests/firmware/run_board_tests.sh BUILD_DIR BOARD
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:?usage: run_board_tests.sh BUILD_DIR BOARD}"
board="${2:?usage: run_board_tests.sh BUILD_DIR BOARD}"

runner=run_board_tests
. "$here/require_firmware.sh"
if [ "$board" != an500 ]; then fw_dir="$build/firmware-$board"; fi
for elf in "$fw_dir/mcusplit_fw_device.elf" "$fw_dir/mcusplit_fw_device_eth.elf"; do
  if [ ! -f "$elf" ]; then
    echo "run_board_tests: $elf missing although the other firmware was built"
    exit 1
  fi
done
grep -qx "QEMU_MACHINE=mps2-$board" "$fw_dir/firmware_layout.env" ||
  { echo "run_board_tests: $fw_dir/firmware_layout.env is not mps2-$board's"; exit 1; }

mcusplit="$build/src/mcusplit"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
image="$root/tests/data/images/fashion_test0_ankle-boot.pgm"
input=(--input "$image" --no-crop --mean 0.2860 --std 0.3530)
"$mcusplit" quantize "$root/models/fashion_mnist_mbv2.onnx" --calib random --samples 4 \
  -o "$work/fashion.mq" > /dev/null
"$mcusplit" plan "$work/fashion.mq" --devices 2xteensy41 --topology star \
  -o "$work/fashion-2.plan" > /dev/null
"$mcusplit" infer "$work/fashion.mq" "${input[@]}" --output "$work/reference.pb" > /dev/null

# run LINK ELF: the plan on 2 emulated MCUs of this board, bit-exact.
run() {
  local link="$1" elf="$2" status=0
  MCUSPLIT_QEMU="$qemu" timeout 300 "$mcusplit" run "$work/fashion-2.plan" "${input[@]}" \
    --targets qemu --link "$link" --firmware "$elf" --repeat 2 --output "$work/$link.pb" \
    > "$work/$link.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ] || ! cmp -s "$work/reference.pb" "$work/$link.pb"; then
    cat "$work/$link.log"
    echo "run_board_tests: FAIL: mps2-$board over $link (exit $status) is not bit-exact with infer"
    exit 1
  fi
  echo "run_board_tests: mps2-$board over $link: 2 devices, 2 inferences, bit-exact with infer"
}

run uart "$fw_dir/mcusplit_fw_device.elf"
if command -v vde_switch > /dev/null && command -v wirefilter > /dev/null; then
  run ethernet "$fw_dir/mcusplit_fw_device_eth.elf"
else
  echo "run_board_tests: vde2 not installed: Ethernet not run"
fi
echo "run_board_tests: OK"
