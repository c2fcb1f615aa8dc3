#!/usr/bin/env bash
# Planner figures for MobileNetV2-1.0 at 224 (int8): the issue's targets and
# the table over N = 1, 2, 4, 8, 16 teensy41 for auto and paper. Builds
# Release, makes the model with `zoo` + `quantize --calib random` (plans
# depend on shapes and weight sizes only, not on weight values), then runs
# `mcusplit plan --json` and prints Markdown tables.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}
WORK=${WORK:-$(mktemp -d)}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$BUILD_DIR" --target mcusplit -j "$JOBS" > /dev/null
M="$BUILD_DIR/src/mcusplit"

if [[ ! -f "$WORK/mnv2.mq" ]]; then
  "$M" zoo mobilenetv2 -o "$WORK/mnv2.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2.onnx" --calib random --samples 2 -o "$WORK/mnv2.mq" > /dev/null
fi

plan() {  # name, then plan arguments; writes $WORK/<name>.json
  local name=$1
  shift
  "$M" plan "$WORK/mnv2.mq" "$@" --json > "$WORK/$name.json"
}

plan single --devices 1xteensy41 --ram 16MiB
for n in 1 2 4 8 16; do
  ram=()
  [[ $n -lt 2 ]] && ram=(--ram 16MiB)  # one teensy41 alone cannot hold the 1.4 MiB peak
  for s in auto paper; do plan "$s-$n" --devices "${n}xteensy41" "${ram[@]}" --strategy "$s"; done
done
plan ram256 --devices 8xteensy41 --ram 256KiB
for s in auto paper; do plan "hetero-$s" --devices 4xteensy41,4xrp2040 --strategy "$s"; done
for t in star bus; do plan "auto-8-$t" --devices 8xteensy41 --topology $t; plan "paper-8-$t" --devices 8xteensy41 --topology $t --strategy paper; done

WORK="$WORK" python3 - <<'PY'
import json, os
w = os.environ["WORK"]
def load(name): return json.load(open(f"{w}/{name}.json"))
single_arena = 1505280
s = load("single"); a = load("auto-8"); p = load("paper-8")
print("## Targets (MobileNetV2-1.0@224, 8xteensy41, switched)\n")
print("| figure | auto | paper | target | met |")
print("| --- | ---: | ---: | --- | --- |")
ram_ok = a["max_peak_ram_bytes"] * 2 <= p["max_peak_ram_bytes"] and a["max_peak_ram_bytes"] * 6 <= single_arena
print(f'| max peak RAM (bytes) | {a["max_peak_ram_bytes"]:,} | {p["max_peak_ram_bytes"]:,} | <= paper/2 and <= {single_arena:,}/6 | {"yes" if ram_ok else "NO"} |')
tr_ok = a["total_bytes_transferred"] * 5 <= p["total_bytes_transferred"]
print(f'| bytes transferred | {a["total_bytes_transferred"]:,} | {p["total_bytes_transferred"]:,} | <= paper/5 | {"yes" if tr_ok else "NO"} |')
speed = s["estimated_latency_s"] / a["estimated_latency_s"]
print(f'| estimated latency (ms) | {a["estimated_latency_s"]*1e3:.1f} | {p["estimated_latency_s"]*1e3:.1f} | >= 3x faster than one teensy41 ({s["estimated_latency_s"]*1e3:.1f} ms) | {"yes" if speed >= 3 else "NO"} ({speed:.2f}x) |')
r = load("ram256")
print(f'| 8xteensy41 --ram 256KiB | feasible, max peak RAM {r["max_peak_ram_bytes"]:,} | | feasible | yes |')
print("\n## Table over N teensy41 (switched)\n")
print("| N | auto peak RAM | auto traffic | auto latency (ms) | paper peak RAM | paper traffic | paper latency (ms) |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for n in (1, 2, 4, 8, 16):
    a = load(f"auto-{n}"); p = load(f"paper-{n}")
    print(f'| {n} | {a["max_peak_ram_bytes"]:,} | {a["total_bytes_transferred"]:,} | {a["estimated_latency_s"]*1e3:.1f} | {p["max_peak_ram_bytes"]:,} | {p["total_bytes_transferred"]:,} | {p["estimated_latency_s"]*1e3:.1f} |')
print("\n## Topologies (8xteensy41)\n")
print("| topology | auto latency (ms) | paper latency (ms) |")
print("| --- | ---: | ---: |")
for t in ("switched", "star", "bus"):
    a = load("auto-8" if t == "switched" else f"auto-8-{t}"); p = load("paper-8" if t == "switched" else f"paper-8-{t}")
    print(f'| {t} | {a["estimated_latency_s"]*1e3:.1f} | {p["estimated_latency_s"]*1e3:.1f} |')
print("\n## Heterogeneous 4xteensy41,4xrp2040 (switched): the fastest plan and the balanced one\n")
print("| plan | estimated latency (ms) | max peak RAM | teensy41 compute / busiest | rp2040 compute / busiest | layers computed (teensy41, rp2040) |")
print("| --- | ---: | ---: | --- | --- | --- |")
for s, what in (("auto", "fastest (auto)"), ("paper", "balanced (paper)")):
    h = load(f"hetero-{s}")
    ds = [d for d in h["devices"] if not d["coordinator"]]
    busiest = max(d["compute_s"] for d in ds)
    share = lambda prefix: " / ".join(f'{d["compute_s"] / busiest:.2f}' for d in ds if d["name"].startswith(prefix))
    layers = lambda prefix: "/".join(str(d["layers_computed"]) for d in ds if d["name"].startswith(prefix))
    print(f'| {what} | {h["estimated_latency_s"]*1e3:.1f} | {h["max_peak_ram_bytes"]:,} | {share("teensy41")} | {share("rp2040")} | {layers("teensy41")}, {layers("rp2040")} |')
PY
