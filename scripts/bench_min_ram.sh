#!/usr/bin/env bash
# The smallest whole-device RAM (arena + the runtime's share) the planner
# meets for MobileNetV2-1.0 at 224 (int8, `zoo --seed 3`) on N = 1, 2, 4, 8,
# 16 teensy41 (auto, objective latency), bisected to 1 KiB, with its
# estimated latency and MAC overhead next to the plan at the profile's RAM.
# Deterministic: plans depend on shapes and weight sizes only.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
WORK=${WORK:-$(mktemp -d)}
cmake --build "$BUILD_DIR" --target mcusplit > /dev/null
M="$BUILD_DIR/src/mcusplit"
if [[ ! -f "$WORK/mnv2.mq" ]]; then
  "$M" zoo mobilenetv2 --seed 3 -o "$WORK/mnv2.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2.onnx" --calib random --samples 2 -o "$WORK/mnv2.mq" > /dev/null
fi
fits() {  # devices, KiB -> writes $WORK/fit.json on success
  "$M" plan "$WORK/mnv2.mq" --devices "$1" --ram "$2KiB" --no-count-search --json \
    > "$WORK/fit.json" 2> /dev/null
}
summary() {  # json file -> "peak latency_ms mac_ratio"
  python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
macs = sum(x['macs'] for x in d['devices'])
print(d['max_peak_ram_bytes'], round(d['estimated_latency_s'] * 1e3, 1), round(macs / 300774272, 3))" "$1"
}
echo "| N | today's plan: peak RAM, latency (ms), MACs / model | smallest whole RAM | its peak RAM, latency (ms), MACs / model |"
echo "| ---: | --- | ---: | --- |"
for n in 1 2 4 8 16; do
  "$M" plan "$WORK/mnv2.mq" --devices "${n}xteensy41" --json > "$WORK/default.json"
  read -r dpeak dlat dmac < <(summary "$WORK/default.json")
  lo=16 hi=1024  # KiB: lo does not fit (below the runtime's share plus any arena), hi does
  while (( hi - lo > 1 )); do
    mid=$(( (lo + hi) / 2 ))
    if fits "${n}xteensy41" "$mid"; then hi=$mid; else lo=$mid; fi
  done
  fits "${n}xteensy41" "$hi"
  read -r peak lat mac < <(summary "$WORK/fit.json")
  echo "| $n | $dpeak, $dlat, ${dmac}x | $hi KiB | $peak, $lat, ${mac}x |"
done
