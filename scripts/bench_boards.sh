#!/usr/bin/env bash
# Heterogeneous emulated MCUs (docs/firmware.md "Boards", docs/cluster.md
# "Measured cores"):
#   1. `mcusplit calibrate` on every board: each kernel's instructions per
#      work unit, output, input and call, and the fit's largest error;
#   2. the trained Fashion-MNIST model and MobileNetV2 0.35 at 96 planned on
#      two devices of each board (2xan385,2xan386,2xan500,2xan505), the
#      fastest plan (auto) and the balanced one (paper), and each run
#      with `run --targets qemu --link ethernet --icount --json`: output
#      bit-exact with `mcusplit infer`, and per device its measured
#      instructions (exact under -icount) against the plan's prediction, and
#      its predicted compute time against the busiest device's;
#   3. the planner on 4xteensy41,4xrp2040: the fastest plan (auto) and the
#      balanced one (paper: every device a share by its speed), each
#      device's predicted compute against the busiest's, and both latencies
#      (with BIG=1 also for MobileNetV2-1.0 at 224).
# Prints Markdown tables; exits 1 if an output differs.
#
#   scripts/bench_boards.sh             # BUILD_DIR=build/release
#   BIG=1 scripts/bench_boards.sh       # also MobileNetV2-1.0 at 224 in the planner
set -euo pipefail
BENCH=bench_boards
BIG=${BIG:-0}
. "$(dirname "${BASH_SOURCE[0]}")/qemu_bench_setup.sh"
command -v vde_switch > /dev/null || { echo "$BENCH: vde_switch not found (apt-get install vde2)" >&2; exit 1; }

for board in an385 an386 an500 an505; do
  "$M" calibrate --board "$board" -o "$WORK/$board.calibration.json" > /dev/null
done
MIXED=2xan385,2xan386,2xan500,2xan505
run_mixed() {
  local name=$1 model=$2 strategy=$3
  shift 3
  "$M" plan "$WORK/$model.mq" --devices "$MIXED" --strategy "$strategy" --json -o "$WORK/$name.plan" \
    > "$WORK/$name.plan.json"
  "$M" infer "$WORK/$model.mq" "$@" --output "$WORK/$name.single.pb" > /dev/null
  "$M" run "$WORK/$name.plan" "$@" --targets qemu --link ethernet --icount --json \
    --timeout 300000 --output "$WORK/$name.pb" > "$WORK/$name.json"
  cmp -s "$WORK/$name.pb" "$WORK/$name.single.pb" ||
    { echo "$BENCH: $name: split output differs from mcusplit infer" >&2; exit 1; }
}
for strategy in auto paper; do
  run_mixed "fashion-mixed-$strategy" fashion "$strategy" --input "$FASHION_IMAGE" "${FASHION_ARGS[@]}"
  run_mixed "mnv2-mixed-$strategy" mnv2-small "$strategy" --input "$IMAGE"
done
models=(fashion mnv2-small)
[[ "$BIG" == 1 ]] && models+=(mnv2)
for model in "${models[@]}"; do
  for strategy in auto paper; do
    "$M" plan "$WORK/$model.mq" --devices 4xteensy41,4xrp2040 --strategy "$strategy" --json \
      -o /dev/null > "$WORK/$model-teensy-rp-$strategy.plan.json"
  done
done

WORK="$WORK" MODELS="${models[*]}" python3 - <<'PY'
import json, os
w = os.environ["WORK"]
labels = {"fashion": "Fashion-MNIST", "mnv2-small": "MobileNetV2 0.35 at 96",
          "mnv2": "MobileNetV2-1.0 at 224"}
plans = {"auto": "fastest (auto)", "paper": "balanced (paper)"}
print("| board | kernel | instructions per work unit | per output | per input | per pixel | per call | largest fit error |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for board in ("an385", "an386", "an500", "an505"):
    c = json.load(open(f"{w}/{board}.calibration.json"))
    for k in ("conv", "pointwise", "depthwise", "fully_connected", "add"):
        v = c["kernel_cycles"][k]
        print(f"| {board} | {k} | {v['work']:.2f} | {v['output']:.1f} | {v['input']:.1f} | {v['pixel']:.1f} | {v['call']:.0f} | {c['largest_fit_error'][k] * 100:.1f}% |")
print("\n| model | plan | device | board | instructions (measured) | predicted | measured / predicted | predicted compute / busiest |")
print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |")
worst = 0
for model in ("fashion", "mnv2"):
    for strategy in ("auto", "paper"):
        name = f"{model}-mixed-{strategy}"
        run = json.load(open(f"{w}/{name}.json"))
        plan = json.load(open(f"{w}/{name}.plan.json"))
        compute = {d["name"]: d["compute_s"] for d in plan["devices"] if d["name"] != "coordinator"}
        busiest = max(compute.values())
        label = labels["fashion" if model == "fashion" else "mnv2-small"]
        for d in run["devices"]:
            if d["coordinator"]:
                continue
            ratio = d["instructions"] / d["predicted_instructions"]
            worst = max(worst, abs(ratio - 1))
            print(f"| {label} | {plans[strategy]} | {d['name']} | {d['board']} | {d['instructions']:,} | "
                  f"{d['predicted_instructions']:,} | {ratio:.3f} | {compute[d['name']] / busiest:.2f} |")
print(f"\nlargest miss of the instruction prediction: {worst * 100:.1f}% (target: within 10%)")
print("\n| model on 4xteensy41,4xrp2040 | plan | estimated latency | teensy41 compute / busiest | rp2040 compute / busiest |")
print("| --- | --- | ---: | --- | --- |")
for model in os.environ["MODELS"].split():
    label = labels[model]
    for strategy, what in plans.items():
        p = json.load(open(f"{w}/{model}-teensy-rp-{strategy}.plan.json"))
        ds = [d for d in p["devices"] if d["name"] != "coordinator"]
        busiest = max(d["compute_s"] for d in ds)
        share = lambda prefix: " / ".join(f"{d['compute_s'] / busiest:.2f}" for d in ds if d["name"].startswith(prefix))
        print(f"| {label} | {what} | {p['estimated_latency_s'] * 1e3:.1f} ms | {share('teensy41')} | {share('rp2040')} |")
PY
