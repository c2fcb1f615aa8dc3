#!/usr/bin/env bash
# What authentication costs a run: MobileNetV2-1.0 at 224 (int8) on 8 local
# teensy41 worker processes over loopback TCP (the 8xteensy41 auto plan),
# switched and star, with and without a cluster key (`--key-file`: every
# frame tagged with HMAC-SHA256, every image too). Runs alternate plain and
# keyed, ROUNDS of each, REPEAT inferences a run, so drift on these shared
# cores falls on both alike; the ratio of the pooled medians is the figure
# (host timings are noisy: never read the absolute times alone). Every
# output is checked bit-exact with `mcusplit infer`. Prints Markdown. Builds
# Release unless MCUSPLIT is given.
#
#   scripts/bench_auth.sh
#   REPEAT=11 ROUNDS=2 scripts/bench_auth.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}
REPEAT=${REPEAT:-11}
ROUNDS=${ROUNDS:-3}
TIMEOUT_MS=${TIMEOUT_MS:-30000}
WORK=${WORK:-$(mktemp -d)}
IMAGE=${IMAGE:-tests/data/images/fashion_test0_ankle-boot.pgm}

if [[ -z "${MCUSPLIT:-}" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$BUILD_DIR" --target mcusplit -j "$JOBS" > /dev/null
  MCUSPLIT="$BUILD_DIR/src/mcusplit"
fi
M=$MCUSPLIT
mkdir -p "$WORK"

if [[ ! -f "$WORK/mnv2.mq" ]]; then
  "$M" zoo mobilenetv2 --width 1.0 --resolution 224 --classes 1000 --seed 1 \
    -o "$WORK/mnv2.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2.onnx" --calib random --samples 8 -o "$WORK/mnv2.mq" > /dev/null
fi
"$M" infer "$WORK/mnv2.mq" --input "$IMAGE" --output "$WORK/single.pb" > /dev/null
"$M" plan "$WORK/mnv2.mq" --devices 8xteensy41 -o "$WORK/mnv2.plan" > /dev/null
rm -f "$WORK/cluster.key"
"$M" keygen -o "$WORK/cluster.key" > /dev/null

run() {  # topology, plain|keyed, round
  local topology=$1 mode=$2 round=$3 key=()
  [[ $mode == keyed ]] && key=(--key-file "$WORK/cluster.key")
  local out="$WORK/$topology-$mode-$round"
  "$M" run "$WORK/mnv2.plan" --input "$IMAGE" --topology "$topology" --repeat "$REPEAT" \
    --timeout "$TIMEOUT_MS" --json --output "$out.pb" "${key[@]}" > "$out.json"
  if ! cmp -s "$out.pb" "$WORK/single.pb"; then
    echo "bench_auth: $topology $mode: split output differs from mcusplit infer" >&2
    exit 1
  fi
}

for topology in switched star; do
  for round in $(seq "$ROUNDS"); do
    run "$topology" plain "$round"
    run "$topology" keyed "$round"
  done
done

WORK="$WORK" REPEAT="$REPEAT" ROUNDS="$ROUNDS" python3 - <<'PY'
import json, os, statistics
w, repeat, rounds = os.environ["WORK"], int(os.environ["REPEAT"]), int(os.environ["ROUNDS"])

def pooled(topology, mode):
    latencies, frames = [], None
    for r in range(1, rounds + 1):
        j = json.load(open(f"{w}/{topology}-{mode}-{r}.json"))
        latencies += j["latency_s"]
        frames = sum(d["frames_sent"] for d in j["devices"])
    return statistics.median(latencies), frames

print("## Authentication: MobileNetV2-1.0 at 224, 8 teensy41 worker processes\n")
print(f"Loopback TCP, the 8xteensy41 auto plan; {rounds} plain and {rounds} keyed runs "
      f"alternating, {repeat} inferences each; median of the pooled latencies. Keyed: every "
      "frame carries a 16-byte HMAC-SHA256 tag (OpenSSL), checked by its receiver, and the "
      "star's relay checks and re-tags each frame it forwards.\n")
print("| topology | frames per inference | latency plain (ms) | latency keyed (ms) | keyed / plain |")
print("| --- | ---: | ---: | ---: | ---: |")
for topology in ("switched", "star"):
    plain, frames = pooled(topology, "plain")
    keyed, _ = pooled(topology, "keyed")
    print(f"| {topology} | {frames:,} | {plain*1e3:.1f} | {keyed*1e3:.1f} | {keyed/plain:.3f} |")
print("\nEvery output bit-exact with `mcusplit infer` on one device.")
PY
