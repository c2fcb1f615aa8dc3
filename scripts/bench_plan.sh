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
plan hetero --devices 4xteensy41,4xrp2040
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
h = load("hetero")
total = sum(d["macs"] for d in h["devices"])
rates = {"teensy41": 200e6, "rp2040": 133e6 / 16}
speeds = [rates[d["name"].rsplit("-", 1)[0]] for d in h["devices"] if not d["coordinator"]]
print("\n## Heterogeneous 4xteensy41,4xrp2040 (auto, switched)\n")
print(f'estimated latency {h["estimated_latency_s"]*1e3:.1f} ms\n')
print("| device | MACs | speed share of MACs | ratio | peak RAM / budget |")
print("| --- | ---: | ---: | ---: | ---: |")
for d, sp in zip([d for d in h["devices"] if not d["coordinator"]], speeds):
    share = total * sp / sum(speeds)
    print(f'| {d["name"]} | {d["macs"]:,} | {share:,.0f} | {d["macs"]/share:.2f} | {d["peak_ram_bytes"]:,} / {d["ram_budget_bytes"]:,} |')
PY
