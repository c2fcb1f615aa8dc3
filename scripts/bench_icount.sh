#!/usr/bin/env bash
# Kernel cost on Cortex-M7 in instructions: `mcusplit run --targets qemu
# --icount` (QEMU -icount shift=7; the firmware's compute clock records count
# each Compute op's guest instructions exactly, docs/firmware.md) for
#   - the trained Fashion-MNIST model on 2 teensy41,
#   - MobileNetV2 0.35 at 96 (10 classes) on 2 teensy41,
#   - MobileNetV2-1.0 at 224 on 8 teensy41 with 256 KiB each (BIG=1 only: minutes).
# Every run is checked bit-exact with `mcusplit infer`. Prints Markdown: per
# model and kernel (conv, depthwise, pointwise 1x1, fully connected, others)
# the layers, the MACs summed over devices, the instructions and
# instructions per MAC; then the instructions of each device.
# FIRMWARE=ELF runs another firmware build (e.g. older kernels).
#
#   scripts/bench_icount.sh
#   BUILD_DIR=build/x BIG=1 FIRMWARE=path/to/mcusplit_fw_device.elf scripts/bench_icount.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}
BIG=${BIG:-0}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
FASHION_IMAGE=tests/data/images/fashion_test0_ankle-boot.pgm
FASHION_ARGS=(--mean 0.2860 --std 0.3530 --no-crop)
IMAGE=${IMAGE:-tests/data/images/fashion_test1_pullover.pgm}  # any image for MobileNetV2

for tool in qemu-system-arm arm-none-eabi-g++; do
  command -v "$tool" > /dev/null || { echo "bench_icount: $tool not found" >&2; exit 1; }
done
if [[ -z "${MCUSPLIT:-}" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" > /dev/null
  MCUSPLIT="$BUILD_DIR/src/mcusplit"
fi
M=$MCUSPLIT
firmware_args=()
[[ -n "${FIRMWARE:-}" ]] && firmware_args=(--firmware "$FIRMWARE")

if [[ ! -f "$WORK/fashion.mq" ]]; then
  "$M" quantize models/fashion_mnist_mbv2.onnx --calib random --samples 8 \
    -o "$WORK/fashion.mq" > /dev/null
  "$M" zoo mobilenetv2 --width 0.35 --resolution 96 --classes 10 -o "$WORK/mnv2-small.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2-small.onnx" --calib random --samples 8 -o "$WORK/mnv2-small.mq" > /dev/null
fi
if [[ "$BIG" == 1 && ! -f "$WORK/mnv2.mq" ]]; then
  "$M" zoo mobilenetv2 --width 1.0 --resolution 224 --classes 1000 --seed 1 \
    -o "$WORK/mnv2.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2.onnx" --calib random --samples 8 -o "$WORK/mnv2.mq" > /dev/null
fi

# run NAME MODEL DEVICES [plan args] -- [input args]
run() {
  local name=$1 model=$2 devices=$3
  shift 3
  local plan_args=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do plan_args+=("$1"); shift; done
  shift
  "$M" plan "$WORK/$model.mq" --devices "$devices" --topology star "${plan_args[@]}" \
    -o "$WORK/$name.plan" > /dev/null
  "$M" infer "$WORK/$model.mq" "$@" --output "$WORK/$name.single.pb" > /dev/null
  "$M" run "$WORK/$name.plan" "$@" --targets qemu --icount "${firmware_args[@]}" \
    --timeout 600000 --json --output "$WORK/$name.pb" > "$WORK/$name.json"
  if ! cmp -s "$WORK/$name.pb" "$WORK/$name.single.pb"; then
    echo "bench_icount: $name: split output differs from mcusplit infer" >&2
    exit 1
  fi
  echo "bench_icount: $name done" >&2
}

names=(fashion-2 mnv2-0.35-96-2)
run fashion-2 fashion 2xteensy41 -- --input "$FASHION_IMAGE" "${FASHION_ARGS[@]}"
run mnv2-0.35-96-2 mnv2-small 2xteensy41 -- --input "$IMAGE"
if [[ "$BIG" == 1 ]]; then
  run mnv2-1.0-224-8x256k mnv2 8xteensy41 --ram 256KiB -- --input "$IMAGE"
  names+=(mnv2-1.0-224-8x256k)
fi

WORK="$WORK" NAMES="${names[*]}" python3 - <<'PY'
import json, os
w = os.environ["WORK"]
order = ["conv", "depthwise", "pointwise", "fully_connected"]
print("| run | kernel | layers | MACs | instructions | instructions / MAC |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
per_device = []
for name in os.environ["NAMES"].split():
    j = json.load(open(f"{w}/{name}.json"))
    kernels = {}
    for d in j["devices"]:
        if d["coordinator"]:
            continue
        per_device.append((name, d["name"], d["instructions"]))
        for layer in d["layers"]:
            if "kernel" not in layer:
                continue
            k = layer["kernel"] if layer["kernel"] in order else "other (add, pool, reshape)"
            entry = kernels.setdefault(k, {"layers": set(), "macs": 0, "instructions": 0})
            entry["layers"].add(layer["step"])
            entry["macs"] += layer["macs"]
            entry["instructions"] += layer["instructions"]
    for k in order + ["other (add, pool, reshape)"]:
        if k not in kernels:
            continue
        e = kernels[k]
        ratio = f"{e['instructions'] / e['macs']:.2f}" if e["macs"] else "–"
        print(f"| {name} | {k} | {len(e['layers'])} | {e['macs']:,} | {e['instructions']:,} | {ratio} |")
print()
print("| run | device | instructions in compute |")
print("| --- | --- | ---: |")
for name, device, n in per_device:
    print(f"| {name} | {device} | {n:,} |")
print("\nevery output bit-exact with mcusplit infer")
PY
