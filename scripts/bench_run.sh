#!/usr/bin/env bash
# Distributed runtime figures for MobileNetV2-1.0 at 224 (int8): `mcusplit run`
# on N = 1, 2, 4, 8 local teensy41 worker processes over loopback TCP, auto
# and paper strategies, switched and star topologies (plus the 8 x 256 KiB
# plan). Per run: median latency of --repeat inferences, payload bytes sent
# (sum over participants), frames and bytes relayed by the coordinator (star),
# largest measured arena high water. Ratios are against N = 1 of the same
# strategy and topology from this same run, since host timings are noisy.
# Every run is also checked: output bit-exact with `mcusplit infer`, each
# participant's high water equal to its planned arena and its bytes equal to
# the plan's. Prints Markdown. Builds Release unless MCUSPLIT is given.
#
#   scripts/bench_run.sh                    # build/release
#   BUILD_DIR=build/x REPEAT=9 scripts/bench_run.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}
REPEAT=${REPEAT:-5}
TIMEOUT_MS=${TIMEOUT_MS:-30000}
WORK=${WORK:-$(mktemp -d)}
IMAGE=${IMAGE:-tests/data/images/fashion_test0_ankle-boot.pgm}

if [[ -z "${MCUSPLIT:-}" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$BUILD_DIR" --target mcusplit -j "$JOBS" > /dev/null
  MCUSPLIT="$BUILD_DIR/src/mcusplit"
fi
M=$MCUSPLIT

if [[ ! -f "$WORK/mnv2.mq" ]]; then
  "$M" zoo mobilenetv2 --width 1.0 --resolution 224 --classes 1000 --seed 1 \
    -o "$WORK/mnv2.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2.onnx" --calib random --samples 8 -o "$WORK/mnv2.mq" > /dev/null
fi
"$M" infer "$WORK/mnv2.mq" --input "$IMAGE" --output "$WORK/single.pb" > /dev/null

plan() {  # name, then plan arguments; writes $WORK/<name>.plan
  local name=$1
  shift
  "$M" plan "$WORK/mnv2.mq" "$@" -o "$WORK/$name.plan" > /dev/null
}

run() {  # plan name, topology; writes $WORK/<name>-<topology>.json, checks the output
  local name=$1 topology=$2
  "$M" run "$WORK/$name.plan" --input "$IMAGE" --topology "$topology" --repeat "$REPEAT" \
    --timeout "$TIMEOUT_MS" --json --output "$WORK/$name-$topology.pb" > "$WORK/$name-$topology.json"
  if ! cmp -s "$WORK/$name-$topology.pb" "$WORK/single.pb"; then
    echo "bench_run: $name $topology: split output differs from mcusplit infer" >&2
    exit 1
  fi
}

cut -d' ' -f1-3 /proc/loadavg > "$WORK/load-before.txt" 2> /dev/null || true
for n in 1 2 4 8; do
  ram=()
  [[ $n -lt 2 ]] && ram=(--ram 16MiB)  # one teensy41 alone cannot hold the 1.4 MiB peak
  for s in auto paper; do plan "$s-$n" --devices "${n}xteensy41" "${ram[@]}" --strategy "$s"; done
done
plan auto-8-256k --devices 8xteensy41 --ram 256KiB
for topology in switched star; do
  for n in 1 2 4 8; do
    for s in auto paper; do run "$s-$n" "$topology"; done
  done
  run auto-8-256k "$topology"
done
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load-after.txt" 2> /dev/null || true

WORK="$WORK" REPEAT="$REPEAT" python3 - <<'PY'
import json, os, platform, statistics, sys
w = os.environ["WORK"]
repeat = int(os.environ["REPEAT"])

def load(name, topology):
    return json.load(open(f"{w}/{name}-{topology}.json"))

problems = []
def figures(name, topology):
    j = load(name, topology)
    devs = j["devices"]
    for d in devs:
        for got, want in (("high_water_bytes", "arena_bytes"), ("bytes_sent", "planned_bytes_sent"),
                          ("bytes_received", "planned_bytes_received"),
                          ("data_frames_sent", "planned_data_frames_sent"),
                          ("credit_frames_sent", "planned_credit_frames_sent")):
            if d[got] != d[want]:
                problems.append(f"{name} {topology} {d['name']}: {got} {d[got]} != {want} {d[want]}")
    coord = next(d for d in devs if d["coordinator"])
    if topology == "switched" and coord["frames_relayed"] != 0:
        problems.append(f"{name} switched: the coordinator relayed {coord['frames_relayed']} frames")
    return {
        "latency": statistics.median(j["latency_s"]),
        "min": min(j["latency_s"]), "max": max(j["latency_s"]),
        "estimate": j["estimated_latency_s"],
        "sent": sum(d["bytes_sent"] for d in devs),
        "relayed_frames": coord["frames_relayed"], "relayed_bytes": coord["bytes_relayed"],
        "peak": max(d["high_water_bytes"] for d in devs if not d["coordinator"]),
    }

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"

def loadavg(when):
    try:
        return open(f"{w}/load-{when}.txt").read().strip() or "?"
    except OSError:
        return "?"

print("## Distributed runtime: MobileNetV2-1.0 at 224, int8, N teensy41 worker processes\n")
print(f"Host: {cpu_model()}, {os.cpu_count()} cores (load average {loadavg('before')} before the "
      f"runs, {loadavg('after')} after), loopback TCP; median of {repeat} inferences "
      "per run (min-max in brackets). Workers, coordinator and relay all share these cores. "
      "N = 1 is planned with --ram 16MiB; the others with the profile's 1 MiB, except the "
      "256 KiB row. Ratios are against N = 1 of the same strategy and topology.\n")
print("| N | strategy | topology | latency (ms) | vs N=1 | plan estimate (ms) | bytes sent | vs N=1 "
      "| relayed frames / bytes | max device peak RAM | vs N=1 |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for topology in ("switched", "star"):
    for s in ("auto", "paper"):
        base = figures(f"{s}-1", topology)
        rows = [(str(n), f"{s}-{n}") for n in (1, 2, 4, 8)]
        if s == "auto":
            rows.append(("8 (256 KiB)", "auto-8-256k"))
        for label, name in rows:
            f = figures(name, topology)
            relayed = (f'{f["relayed_frames"]:,} / {f["relayed_bytes"]:,}' if topology == "star"
                       else "-")
            print(f'| {label} | {s} | {topology} | {f["latency"]*1e3:.1f} '
                  f'[{f["min"]*1e3:.1f}-{f["max"]*1e3:.1f}] | {f["latency"]/base["latency"]:.2f}x '
                  f'| {f["estimate"]*1e3:.1f} | {f["sent"]:,} | {f["sent"]/base["sent"]:.2f}x '
                  f'| {relayed} | {f["peak"]:,} | {f["peak"]/base["peak"]:.2f}x |')
print()
print("Every run: output bit-exact with `mcusplit infer` on one device; "
      + ("every participant's high water equal to its planned arena and bytes, Data and Credit "
         "frames equal to the plan's." if not problems else "MISMATCHES:"))
for p in problems:
    print(f"- {p}")
sys.exit(1 if problems else 0)
PY
