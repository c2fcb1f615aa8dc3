#!/usr/bin/env bash
# Emulated microcontrollers on switched Ethernet (`mcusplit run --targets qemu
# --link ethernet`: one QEMU mps2-an500 per device, its LAN9118 on a
# vde_switch, docs/firmware.md "Ethernet"):
#   1. MobileNetV2 0.35 at 96 on 2, 4 and 8 teensy41 and MobileNetV2-1.0 at 224
#      on 8 (the 256 KiB plan, and the 64 KiB plan on the 64 KiB Ethernet
#      firmware; skipped with BIG=0), both topologies, unshaped links; and the
#      256 KiB plan over the UART star once, for the speed ratio;
#   2. the cost model against measurement with every device link shaped to
#      10 Mbit/s (wirefilter), N = 2, 4 and 8, both topologies (MobileNetV2
#      0.35 at 96). A calibration run (part 1's plan, on the shaped links)
#      measures what the emulated devices really have: each kernel's rate
#      (its work units over its compute time, from `run --json`'s layers)
#      and their links' Ack round trip (the devices' own median send-to-Ack
#      time). The plan is then made for a cluster with
#      those figures and the links wirefilter enforces (10 Mbit/s, raw
#      Ethernet frames of 90 bytes of overhead, a window of one frame), and its
#      estimate is compared with its run on the shaped links.
# Every run is checked: output bit-exact with `mcusplit infer` on one device,
# every participant's high water, bytes and Data and Credit frames equal to
# the plan's. Prints Markdown tables. Ratios from one run; the medians are
# of REPEAT inferences.
#
#   scripts/bench_ethernet.sh
#   BUILD_DIR=build/x REPEAT=5 BIG=0 scripts/bench_ethernet.sh
set -euo pipefail
REPEAT=${REPEAT:-3}
TIMEOUT_MS=${TIMEOUT_MS:-600000}
BIG=${BIG:-1}
RATE=${RATE:-10000000}  # bit/s of every shaped link

BENCH=bench_ethernet
. "$(dirname "${BASH_SOURCE[0]}")/qemu_bench_setup.sh"
for tool in vde_switch wirefilter; do
  command -v "$tool" > /dev/null || { echo "$BENCH: $tool not found (apt-get install vde2)" >&2; exit 1; }
done
FW_DIR="$BUILD_DIR/firmware-device"

# run NAME LINK [run args] : runs $WORK/NAME.plan (input INPUT_ARGS) on QEMU
# over LINK, checks it; writes $WORK/NAME.json.
run_plan() {
  local name=$1 link=$2
  shift 2
  "$M" run "$WORK/$name.plan" "${INPUT_ARGS[@]}" --targets qemu --link "$link" "$@" \
    --repeat "$REPEAT" --timeout "$TIMEOUT_MS" --json --output "$WORK/$name.pb" > "$WORK/$name.json"
  check_bit_exact "$name"
  echo "$BENCH: $name done" >&2
}

# bench NAME MODEL DEVICES TOPOLOGY LINK [plan args] -- [input args] [-- run args]
bench() {
  local name=$1 model=$2 devices=$3 topology=$4 link=$5
  shift 5
  local plan_args=() input=() extra=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do plan_args+=("$1"); shift; done
  shift
  while [[ $# -gt 0 && "$1" != "--" ]]; do input+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  extra=("$@")
  TOPOLOGY=$topology plan_and_reference "$name" "$model" "$devices" "${plan_args[@]}" -- "${input[@]}"
  "$M" plan "$WORK/$model.mq" --devices "$devices" --topology "$topology" "${plan_args[@]}" \
    --json -o /dev/null > "$WORK/$name.plan.json"
  run_plan "$name" "$link" "${extra[@]}"
}

names=()
for n in 2 4 8; do
  for t in switched star; do
    bench "mnv2-0.35-96-$n-$t" mnv2-small "${n}xteensy41" "$t" ethernet -- --input "$IMAGE"
    names+=("mnv2-0.35-96-$n-$t")
  done
done
if [[ "$BIG" == 1 ]]; then
  for t in switched star; do
    bench "mnv2-1.0-224-8x256k-$t" mnv2 8xteensy41 "$t" ethernet --ram 256KiB -- --input "$IMAGE"
    names+=("mnv2-1.0-224-8x256k-$t")
    bench "mnv2-1.0-224-8x64k-$t" mnv2 8xteensy41 "$t" ethernet --ram 64KiB -- --input "$IMAGE" \
      -- --firmware "$FW_DIR/ram-64k/mcusplit_fw_device_eth_64k.elf"
    names+=("mnv2-1.0-224-8x64k-$t")
  done
  bench "mnv2-1.0-224-8x256k-uart" mnv2 8xteensy41 star uart --ram 256KiB -- --input "$IMAGE"
  names+=("mnv2-1.0-224-8x256k-uart")
fi

# Part 2: the cost model at RATE bit/s.
model_names=()
for n in 2 4 8; do
  for t in switched star; do
    base="mnv2-0.35-96-$n-$t"
    name="model-$n-$t"
    # Calibration: part 1's plan on the shaped links.
    INPUT_ARGS=(--input "$IMAGE")
    cp "$WORK/$base.plan" "$WORK/$name-calibration.plan"
    cp "$WORK/$base.plan.json" "$WORK/$name-calibration.plan.json"
    cp "$WORK/$base.single.pb" "$WORK/$name-calibration.single.pb"
    run_plan "$name-calibration" ethernet --link-rate "$RATE"
    # The cluster the emulated devices make on these links.
    WORK="$WORK" BASE="$name-calibration" N="$n" T="$t" RATE="$RATE" python3 - > "$WORK/$name.cluster.json" <<'PY'
import collections, json, os, statistics
w, base = os.environ["WORK"], os.environ["BASE"]
run = json.load(open(f"{w}/{base}.json"))
devices = [d for d in run["devices"] if not d["coordinator"]]
# Each kernel's rate: its work units over its compute time, on every device.
work, seconds = collections.Counter(), collections.Counter()
for d in devices:
    for layer in d["layers"]:
        if layer["kernel"] and layer["work"] > 0 and layer["compute_s"] > 0:
            work[layer["kernel"]] += layer["work"]
            seconds[layer["kernel"]] += layer["compute_s"]
round_trips = [d["own_ack_round_trip_s"] for d in devices if d["own_ack_round_trip_s"] > 0]
print(json.dumps({"topology": os.environ["T"], "devices": [{
    "profile": "teensy41", "count": int(os.environ["N"]),
    "macs_per_second": sum(work.values()) / sum(seconds.values()),
    "kernel_rates": {k: work[k] / seconds[k] for k in sorted(work)},
    "link": {"bits_per_second": float(os.environ["RATE"]), "latency_s": 0,
             "frame_overhead_bytes": 90, "window_frames": 1,
             "ack_round_trip_s": statistics.median(round_trips)}}]}))
PY
    "$M" plan "$WORK/mnv2-small.mq" --cluster "$WORK/$name.cluster.json" --json \
      -o "$WORK/$name.plan" > "$WORK/$name.plan.json"
    cp "$WORK/$base.single.pb" "$WORK/$name.single.pb"
    run_plan "$name" ethernet --link-rate "$RATE"
    model_names+=("$name")
  done
done

WORK="$WORK" NAMES="${names[*]}" MODEL_NAMES="${model_names[*]}" python3 - <<'PY'
import json, os, statistics, sys
w = os.environ["WORK"]
problems = []
def load(name):
    j = json.load(open(f"{w}/{name}.json"))
    for d in j["devices"]:
        for got, want in (("high_water_bytes", "arena_bytes"), ("bytes_sent", "planned_bytes_sent"),
                          ("bytes_received", "planned_bytes_received"),
                          ("data_frames_sent", "planned_data_frames_sent"),
                          ("credit_frames_sent", "planned_credit_frames_sent")):
            if d[got] != d[want]:
                problems.append(f"{name} {d['name']}: {got} {d[got]} != {want} {d[want]}")
    return j
print("| run | link | topology | devices | latency (s, median) | max device compute (s) | retransmissions | relayed frames | devices' median Ack round trip (ms) |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
lat = {}
for name in os.environ["NAMES"].split():
    j = load(name)
    devs = [d for d in j["devices"] if not d["coordinator"]]
    coord = [d for d in j["devices"] if d["coordinator"]][0]
    lat[name] = statistics.median(j["latency_s"])
    rtts = [d.get("own_ack_round_trip_s", 0) for d in devs if d.get("own_ack_round_trip_s", 0) > 0]
    rtt = f"{statistics.median(rtts) * 1e3:.2f}" if rtts else "-"
    print(f"| {name} | {j['link']} | {j['topology']} | {len(devs)} | {lat[name]:.2f} | "
          f"{max(d['compute_s'] for d in devs):.2f} | {sum(d.get('retransmissions', 0) for d in j['devices'])} | "
          f"{coord['frames_relayed']:,} | {rtt} |")
uart, eth = lat.get("mnv2-1.0-224-8x256k-uart"), lat.get("mnv2-1.0-224-8x256k-switched")
if uart and eth:
    print(f"\nMobileNetV2-1.0 at 224 on 8 (256 KiB plan): UART star {uart:.1f} s, Ethernet switched "
          f"{eth:.2f} s per inference: {uart / eth:.1f}x faster")
print("\n| cost model at 10 Mbit/s | devices | topology | pointwise / depthwise rate (M work/s) | Ack round trip (ms) | frames sent | estimate (s) | measured (s, median) | measured / estimate |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
worst = 0
for name in os.environ["MODEL_NAMES"].split():
    j = load(name)
    plan = json.load(open(f"{w}/{name}.plan.json"))
    cluster = json.load(open(f"{w}/{name}.cluster.json"))["devices"][0]
    measured = statistics.median(j["latency_s"])
    est = plan["estimated_latency_s"]
    worst = max(worst, abs(measured / est - 1))
    frames = sum(d["frames_sent"] for d in j["devices"])
    print(f"| {name} | {cluster['count']} | {j['topology']} | "
          f"{cluster['kernel_rates']['pointwise'] / 1e6:.0f} / {cluster['kernel_rates']['depthwise'] / 1e6:.0f} | "
          f"{cluster['link']['ack_round_trip_s'] * 1e3:.2f} | {frames:,} | {est:.3f} | {measured:.3f} | {measured / est:.2f} |")
print(f"\nlargest miss: {worst * 100:.0f}% (target: within 25%)")
if problems:
    print("MEASURED FIGURES DIFFER FROM THE PLAN:\n" + "\n".join(problems))
    sys.exit(1)
print("every output bit-exact with mcusplit infer; every participant's high water, bytes and frames equal the plan's")
PY
