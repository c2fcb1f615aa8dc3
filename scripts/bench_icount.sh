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
BIG=${BIG:-0}

BENCH=bench_icount
. "$(dirname "${BASH_SOURCE[0]}")/qemu_bench_setup.sh"

# run NAME MODEL DEVICES [plan args] -- [input args]
run() {
  local name=$1
  plan_and_reference "$@"
  "$M" run "$WORK/$name.plan" "${INPUT_ARGS[@]}" --targets qemu --icount "${firmware_args[@]}" \
    --timeout 600000 --json --output "$WORK/$name.pb" > "$WORK/$name.json"
  check_bit_exact "$name"
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
            if "macs" not in layer:
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
