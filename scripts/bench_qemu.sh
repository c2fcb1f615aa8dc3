#!/usr/bin/env bash
# Emulated microcontrollers: `mcusplit run --targets qemu` (one QEMU mps2-an500
# Cortex-M7 per device running the device firmware, star topology over each
# device's UART) for
#   - the trained Fashion-MNIST model on 2, 4 and 8 teensy41,
#   - MobileNetV2 0.35 at 96 (10 classes) on 2, 4 and 8 teensy41,
#   - MobileNetV2-1.0 at 224 (1000 classes) on 8 teensy41 with 256 KiB each
#     (the plan of `make demo`), and with 64 KiB each on the device firmware
#     whose RAM region is 64 KiB (tiled runs; skipped with BIG=0).
# Every run is checked: output bit-exact with `mcusplit infer` on one device,
# and every participant's measured arena high water, bytes and Data and
# Credit frames equal to the plan's. Prints Markdown: per run the latency
# (median of REPEAT inferences), wall time of the whole command (QEMU boot
# included), the largest device compute time and the payload relayed.
# Builds Release (with the firmware) unless MCUSPLIT is given.
#
#   scripts/bench_qemu.sh
#   BUILD_DIR=build/x REPEAT=3 BIG=0 scripts/bench_qemu.sh
set -euo pipefail
REPEAT=${REPEAT:-1}
TIMEOUT_MS=${TIMEOUT_MS:-600000}
BIG=${BIG:-1}

BENCH=bench_qemu
. "$(dirname "${BASH_SOURCE[0]}")/qemu_bench_setup.sh"

# run NAME MODEL DEVICES [plan args] -- [input args]: plans, runs on QEMU,
# checks bit-exactness; writes $WORK/NAME.json and $WORK/NAME.wall.
run() {
  local name=$1
  plan_and_reference "$@"
  local start end
  start=$(date +%s%N)
  "$M" run "$WORK/$name.plan" "${INPUT_ARGS[@]}" --targets qemu "${firmware_args[@]}" \
    --repeat "$REPEAT" --timeout "$TIMEOUT_MS" --json --output "$WORK/$name.pb" > "$WORK/$name.json"
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 )) > "$WORK/$name.wall"  # ms
  check_bit_exact "$name"
  echo "bench_qemu: $name done ($(cat "$WORK/$name.wall") ms)" >&2
}

cut -d' ' -f1-3 /proc/loadavg > "$WORK/load-before.txt" 2> /dev/null || true
names=()
for n in 2 4 8; do
  run "fashion-$n" fashion "${n}xteensy41" -- --input "$FASHION_IMAGE" "${FASHION_ARGS[@]}"
  names+=("fashion-$n")
done
for n in 2 4 8; do
  run "mnv2-0.35-96-$n" mnv2-small "${n}xteensy41" -- --input "$IMAGE"
  names+=("mnv2-0.35-96-$n")
done
if [[ "$BIG" == 1 ]]; then
  run "mnv2-1.0-224-8x256k" mnv2 8xteensy41 --ram 256KiB -- --input "$IMAGE"
  names+=("mnv2-1.0-224-8x256k")
  default_firmware=("${firmware_args[@]}")
  firmware_args=(--firmware "$BUILD_DIR/firmware-device/ram-64k/mcusplit_fw_device_64k.elf")
  run "mnv2-1.0-224-8x64k" mnv2 8xteensy41 --ram 64KiB -- --input "$IMAGE"
  names+=("mnv2-1.0-224-8x64k")
  firmware_args=("${default_firmware[@]}")
fi
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load-after.txt" 2> /dev/null || true

WORK="$WORK" NAMES="${names[*]}" python3 - <<'PY'
import json, os, statistics, sys
w = os.environ["WORK"]
problems = []
print("| run | devices | latency (s) | wall incl. boot (s) | max device compute (s) | payload bytes sent | relayed frames / bytes | max device arena = high water (B) | plan estimate (ms) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name in os.environ["NAMES"].split():
    j = json.load(open(f"{w}/{name}.json"))
    wall = float(open(f"{w}/{name}.wall").read()) / 1000
    devs = [d for d in j["devices"] if not d["coordinator"]]
    coord = [d for d in j["devices"] if d["coordinator"]][0]
    for d in j["devices"]:
        for got, want in (("high_water_bytes", "arena_bytes"), ("bytes_sent", "planned_bytes_sent"),
                          ("bytes_received", "planned_bytes_received"),
                          ("data_frames_sent", "planned_data_frames_sent"),
                          ("credit_frames_sent", "planned_credit_frames_sent")):
            if d[got] != d[want]:
                problems.append(f"{name} {d['name']}: {got} {d[got]} != {want} {d[want]}")
    lat = statistics.median(j["latency_s"])
    print(f"| {name} | {len(devs)} | {lat:.2f} | {wall:.1f} | {max(d['compute_s'] for d in devs):.2f} | "
          f"{sum(d['bytes_sent'] for d in j['devices']):,} | {coord['frames_relayed']:,} / {coord['bytes_relayed']:,} | "
          f"{max(d['high_water_bytes'] for d in devs):,} | {j['estimated_latency_s'] * 1e3:.1f} |")
before = open(f"{w}/load-before.txt").read().strip() if os.path.exists(f"{w}/load-before.txt") else "?"
after = open(f"{w}/load-after.txt").read().strip() if os.path.exists(f"{w}/load-after.txt") else "?"
print(f"\nload average before: {before}; after: {after}; cores: {os.cpu_count()}")
if problems:
    print("MEASURED FIGURES DIFFER FROM THE PLAN:\n" + "\n".join(problems))
    sys.exit(1)
print("every output bit-exact with mcusplit infer; every participant's high water, bytes and frames equal the plan's")
PY
