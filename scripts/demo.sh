#!/usr/bin/env bash
# The main job, as far as the project goes today: MobileNetV2 from the zoo,
# inspected, run in float and in int8 inside one static arena, planned across
# 8 teensy41 boards and run on 8 worker processes (switched and star),
# bit-exact with one device; then the trained Fashion-MNIST model quantized,
# classifying real test images on one device and across 4 workers, and as
# firmware on 2 emulated Cortex-M7 MCUs with instruction counts.
set -euo pipefail
BUILD_DIR=${1:-build/release}
MCUSPLIT="$BUILD_DIR/src/mcusplit"
OUT="$BUILD_DIR/demo"
FASHION=/usr/share/datasets/fashion-mnist
mkdir -p "$OUT"

# Prints a `mcusplit run --json` file as a compact table: per participant the
# planned arena and measured high water (peak RAM), payload bytes sent and
# received, Data and Credit frames sent and frames relayed, then the
# latencies. Exits 1 if a measured figure differs from the plan's.
print_run() {
  python3 - "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"  {'participant':<13} {'arena':>9} {'high water':>10} {'sent':>10} {'received':>10} "
      f"{'data frames':>11} {'credits':>7} {'relayed':>7}")
bad = []
for d in j["devices"]:
    print(f"  {d['name']:<13} {d['arena_bytes']:>9,} {d['high_water_bytes']:>10,} "
          f"{d['bytes_sent']:>10,} {d['bytes_received']:>10,} {d['data_frames_sent']:>11,} "
          f"{d['credit_frames_sent']:>7,} {d['frames_relayed']:>7,}")
    for got, want in (("high_water_bytes", "arena_bytes"), ("bytes_sent", "planned_bytes_sent"),
                      ("bytes_received", "planned_bytes_received"),
                      ("data_frames_sent", "planned_data_frames_sent"),
                      ("credit_frames_sent", "planned_credit_frames_sent")):
        if d[got] != d[want]:
            bad.append(f"{d['name']}: {got} {d[got]:,} but the plan says {d[want]:,}")
devices = [d for d in j["devices"] if not d["coordinator"]]
ms = ", ".join(f"{s * 1e3:.1f}" for s in j["latency_s"])
print(f"  largest device arena high water {max(d['high_water_bytes'] for d in devices):,} B, "
      f"payload bytes sent {sum(d['bytes_sent'] for d in j['devices']):,}; "
      f"latency per inference {ms} ms on this host (cost model's teensy41 estimate "
      f"{j['estimated_latency_s'] * 1e3:.1f} ms)")
if bad:
    print("  MEASURED FIGURES DIFFER FROM THE PLAN: " + "; ".join(bad))
    sys.exit(1)
print("  every participant's high water, bytes and frames equal the plan's")
EOF
}

# The top-1 label of a `mcusplit run --json` file, then its latency in ms.
run_top1() {
  python3 - "$1" models/fashion_mnist_labels.txt <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
labels = open(sys.argv[2]).read().split()
print(labels[j["top1"]["index"]], f"{j['latency_s'][0] * 1e3:.1f}")
EOF
}

echo "== mcusplit zoo: MobileNetV2-1.0 at 224, 1000 classes, seed 1"
"$MCUSPLIT" zoo mobilenetv2 --width 1.0 --resolution 224 --classes 1000 --seed 1 -o "$OUT/mobilenetv2.onnx"

echo
echo "== mcusplit inspect (first layers ... totals)"
"$MCUSPLIT" inspect "$OUT/mobilenetv2.onnx" > "$OUT/inspect.txt"
head -n 4 "$OUT/inspect.txt"
echo "  ..."
tail -n 5 "$OUT/inspect.txt"

IMAGE=tests/data/images/fashion_test0_ankle-boot.pgm
echo
echo "== mcusplit infer, float engine (seeded weights, so the classes are arbitrary)"
"$MCUSPLIT" infer "$OUT/mobilenetv2.onnx" --input "$IMAGE"

echo
echo "== mcusplit quantize MobileNetV2 (random calibration) and run it in int8, one static arena"
"$MCUSPLIT" quantize "$OUT/mobilenetv2.onnx" --calib random --samples 8 -o "$OUT/mobilenetv2.mq"
"$MCUSPLIT" infer "$OUT/mobilenetv2.mq" --input "$IMAGE"

echo
echo "== mcusplit plan: MobileNetV2 int8 on 8 teensy41 with 256 KiB RAM each (auto), with a report"
"$MCUSPLIT" plan "$OUT/mobilenetv2.mq" --devices 8xteensy41 --ram 256KiB -o "$OUT/mobilenetv2.plan" \
  --report "$OUT/mobilenetv2-plan.html"
"$MCUSPLIT" infer "$OUT/mobilenetv2.mq" --input "$IMAGE" --output "$OUT/single-output.pb" > /dev/null
for topology in switched star; do
  echo
  if [[ $topology == switched ]]; then
    echo "== mcusplit run: that plan on 8 worker processes over TCP (loopback, switched: workers"
    echo "   send to each other), 3 inferences, against one device"
  else
    echo "== the same plan in the star topology: every frame between devices goes through the"
    echo "   coordinator, which relays it"
  fi
  "$MCUSPLIT" run "$OUT/mobilenetv2.plan" --input "$IMAGE" --topology "$topology" --repeat 3 \
    --json --output "$OUT/split-output-$topology.pb" > "$OUT/run-$topology.json"
  print_run "$OUT/run-$topology.json"
  if cmp -s "$OUT/split-output-$topology.pb" "$OUT/single-output.pb"; then
    echo "  split output ($topology) is bit-exact with the single-device int8 output"
  else
    echo "  split output ($topology) DIFFERS from the single-device int8 output"
    exit 1
  fi
done

echo
echo "== the same model within 64 KiB of RAM per device (arena and the runtime's share): tiled runs, rows streamed"
echo "   compute runs of layers a tile at a time, rows shared between tiles copied or recomputed; on 8 workers over TCP"
"$MCUSPLIT" plan "$OUT/mobilenetv2.mq" --devices 8xteensy41 --ram 64KiB -o "$OUT/mobilenetv2-64k.plan" |
  tail -n 2
"$MCUSPLIT" run "$OUT/mobilenetv2-64k.plan" --input "$IMAGE" --repeat 3 --json \
  --output "$OUT/split-output-64k.pb" > "$OUT/run-64k.json"
print_run "$OUT/run-64k.json"
if cmp -s "$OUT/split-output-64k.pb" "$OUT/single-output.pb"; then
  echo "  split output (64 KiB plan) is bit-exact with the single-device int8 output"
else
  echo "  split output (64 KiB plan) DIFFERS from the single-device int8 output"
  exit 1
fi

echo
echo "== the original paper's scheme on the same cluster (1 MiB each; it needs more than 256 KiB)"
"$MCUSPLIT" plan "$OUT/mobilenetv2.mq" --devices 8xteensy41 --strategy paper --topology star | tail -n 2
echo
echo "== one teensy41 alone: layer by layer it would need 1.4 MiB; tiled runs fit it in 256 KiB"
"$MCUSPLIT" plan "$OUT/mobilenetv2.mq" --devices 1xteensy41 --ram 256KiB | tail -n 2

echo
echo "== Fashion-MNIST: the trained model, quantized with 200 training images"
MODEL=models/fashion_mnist_mbv2.onnx
PREPROCESSING=(--mean 0.2860 --std 0.3530 --no-crop)
"$MCUSPLIT" quantize "$MODEL" --calib "$FASHION/train-images-idx3-ubyte.gz" --samples 200 \
  -o "$OUT/fashion.mq"
for image in tests/data/images/fashion_test*.pgm; do
  truth=$(basename "$image" .pgm | sed 's/^fashion_test[0-9]*_//')
  predicted=$("$MCUSPLIT" infer "$OUT/fashion.mq" --input "$image" "${PREPROCESSING[@]}" \
    --labels models/fashion_mnist_labels.txt --json |
    sed -n 's/.*"label": "\(.*\)".*/\1/p' | head -n 1)
  printf '  %-48s int8 predicts %-12s true label %s\n' "$image" "$predicted" "$truth"
done

echo
echo "== Fashion-MNIST model classifying test images across 4 workers (4xteensy41, auto, switched)"
"$MCUSPLIT" plan "$OUT/fashion.mq" --devices 4xteensy41 -o "$OUT/fashion.plan" > /dev/null
for image in tests/data/images/fashion_test*.pgm; do
  truth=$(basename "$image" .pgm | sed 's/^fashion_test[0-9]*_//')
  "$MCUSPLIT" run "$OUT/fashion.plan" --input "$image" "${PREPROCESSING[@]}" --json \
    --output "$OUT/fashion-split.pb" > "$OUT/fashion-run.json"
  "$MCUSPLIT" infer "$OUT/fashion.mq" --input "$image" "${PREPROCESSING[@]}" \
    --output "$OUT/fashion-single.pb" > /dev/null
  read -r predicted latency_ms < <(run_top1 "$OUT/fashion-run.json")
  if cmp -s "$OUT/fashion-split.pb" "$OUT/fashion-single.pb"; then
    printf '  %-48s split top-1 %-12s true label %-12s bit-exact with infer (%s ms)\n' "$image" \
      "$predicted" "$truth" "$latency_ms"
  else
    printf '  %-48s split top-1 %-12s true label %-12s DIFFERS from infer\n' "$image" \
      "$predicted" "$truth"
    exit 1
  fi
done

echo
echo "== the same model as firmware on 2 emulated Cortex-M7 MCUs (QEMU mps2-an500, 256 KiB RAM"
echo "   each, star over their UARTs), instructions per kernel counted with QEMU -icount"
FIRMWARE="$BUILD_DIR/firmware-device/mcusplit_fw_device.elf"
if [[ -f "$FIRMWARE" ]] && command -v qemu-system-arm > /dev/null; then
  image=tests/data/images/fashion_test0_ankle-boot.pgm
  "$MCUSPLIT" plan "$OUT/fashion.mq" --devices 2xteensy41 --topology star \
    -o "$OUT/fashion-qemu.plan" > /dev/null
  "$MCUSPLIT" run "$OUT/fashion-qemu.plan" --input "$image" "${PREPROCESSING[@]}" --targets qemu \
    --icount --json --output "$OUT/fashion-qemu.pb" > "$OUT/fashion-qemu.json"
  "$MCUSPLIT" infer "$OUT/fashion.mq" --input "$image" "${PREPROCESSING[@]}" \
    --output "$OUT/fashion-single.pb" > /dev/null
  print_run "$OUT/fashion-qemu.json"
  python3 - "$OUT/fashion-qemu.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
kernels = {}
for d in j["devices"]:
    for layer in d["layers"] if not d["coordinator"] else []:
        if layer.get("macs"):
            k = kernels.setdefault(layer["kernel"], [0, 0])
            k[0] += layer["macs"]
            k[1] += layer["instructions"]
for k, (m, n) in sorted(kernels.items()):
    print(f"  {k:<16} {m:>11,} MACs {n:>12,} instructions {n / m:6.2f} per MAC")
EOF
  if cmp -s "$OUT/fashion-qemu.pb" "$OUT/fashion-single.pb"; then
    echo "  output on the emulated MCUs is bit-exact with infer"
  else
    echo "  output on the emulated MCUs DIFFERS from infer"
    exit 1
  fi
else
  echo "  skipped: no firmware build ($FIRMWARE) or no qemu-system-arm (scripts/setup.sh installs both)"
fi

echo
echo "== the same model on 4 emulated MCUs over switched Ethernet (their LAN9118s on a vde_switch,"
echo "   devices sending to each other), every link losing 5% of its frames (wirefilter)"
ETH_FIRMWARE="$BUILD_DIR/firmware-device/mcusplit_fw_device_eth.elf"
if [[ -f "$ETH_FIRMWARE" ]] && command -v qemu-system-arm > /dev/null &&
   command -v vde_switch > /dev/null && command -v wirefilter > /dev/null; then
  image=tests/data/images/fashion_test0_ankle-boot.pgm
  "$MCUSPLIT" plan "$OUT/fashion.mq" --devices 4xteensy41 --topology switched \
    -o "$OUT/fashion-eth.plan" > /dev/null
  "$MCUSPLIT" run "$OUT/fashion-eth.plan" --input "$image" "${PREPROCESSING[@]}" --targets qemu \
    --link ethernet --loss 0.05 --repeat 3 --json --output "$OUT/fashion-eth.pb" > "$OUT/fashion-eth.json"
  print_run "$OUT/fashion-eth.json"
  python3 - "$OUT/fashion-eth.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
lost = sum(d["retransmissions"] for d in j["devices"])
print(f"  frames sent again after a loss (last inference): {lost}")
EOF
  if cmp -s "$OUT/fashion-eth.pb" "$OUT/fashion-single.pb"; then
    echo "  output over lossy Ethernet is bit-exact with infer"
  else
    echo "  output over lossy Ethernet DIFFERS from infer"
    exit 1
  fi
else
  echo "  skipped: no Ethernet firmware ($ETH_FIRMWARE), qemu-system-arm or vde2 (scripts/setup.sh installs them)"
fi

echo
echo "== the same model on 8 emulated MCUs of four cores, two of each board (QEMU mps2-an385 Cortex-M3,"
echo "   -an386 M4, -an500 M7, -an505 M33), each booted on its own board, shares by each core's measured"
echo "   kernel costs; instructions per device counted with -icount against the plan's prediction"
if [[ -f "$BUILD_DIR/firmware-an385/mcusplit_fw_device_eth.elf" ]] && command -v qemu-system-arm > /dev/null &&
   command -v vde_switch > /dev/null; then
  image=tests/data/images/fashion_test0_ankle-boot.pgm
  "$MCUSPLIT" plan "$OUT/fashion.mq" --devices 2xan385,2xan386,2xan500,2xan505 \
    -o "$OUT/fashion-mixed.plan" > /dev/null
  "$MCUSPLIT" run "$OUT/fashion-mixed.plan" --input "$image" "${PREPROCESSING[@]}" --targets qemu \
    --link ethernet --icount --json --output "$OUT/fashion-mixed.pb" > "$OUT/fashion-mixed.json"
  python3 - "$OUT/fashion-mixed.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for d in j["devices"]:
    if not d["coordinator"]:
        print(f"  {d['name']:<9} {d['board']}: {d['instructions']:>10,} instructions, the plan predicted "
              f"{d['predicted_instructions']:>10,} ({d['instructions'] / d['predicted_instructions']:.3f})")
EOF
  if cmp -s "$OUT/fashion-mixed.pb" "$OUT/fashion-single.pb"; then
    echo "  output on the mixed cores is bit-exact with infer"
  else
    echo "  output on the mixed cores DIFFERS from infer"
    exit 1
  fi
else
  echo "  skipped: no board firmware, qemu-system-arm or vde2 (scripts/setup.sh installs them)"
fi

echo
echo "== TFLM's person detection model (.tflite from ../shared/models): imported with its own int8"
echo "   quantization, both test images on one device, then split on 4 workers (4xnrf52840)"
MODELS="$(dirname "${BASH_SOURCE[0]}")/../../shared/models"
if [[ -f "$MODELS/person_detect.tflite" ]]; then
  "$MCUSPLIT" plan "$MODELS/person_detect.tflite" --devices 4xnrf52840 -o "$OUT/person.plan" > /dev/null
  for image in person no_person; do
    "$MCUSPLIT" infer "$MODELS/person_detect.tflite" --input "$MODELS/${image}_int8.pb" \
      --output "$OUT/$image-single.pb" > /dev/null
    "$MCUSPLIT" run "$OUT/person.plan" --input "$MODELS/${image}_int8.pb" \
      --output "$OUT/$image-split.pb" > /dev/null
    python3 - "$OUT/$image-single.pb" "$image" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
no_person, person = (b - 256 if b > 127 else b for b in data[-2:])
print(f"  {sys.argv[2] + ' image:':<18} person score {person:4d}, no-person score {no_person:4d}")
EOF
    if ! cmp -s "$OUT/$image-single.pb" "$OUT/$image-split.pb"; then
      echo "  the split output DIFFERS from infer"
      exit 1
    fi
  done
  echo "  both split outputs are bit-exact with infer"
else
  echo "  skipped: no ../shared/models/person_detect.tflite beside the source tree"
fi

echo
echo "== accuracy on the 10,000 test images"
"$MCUSPLIT" eval "$MODEL" --idx "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz"
"$MCUSPLIT" eval "$OUT/fashion.mq" --idx "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz"
