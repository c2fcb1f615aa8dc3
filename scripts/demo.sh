#!/usr/bin/env bash
# The main job, as far as the project goes today: generate MobileNetV2,
# inspect it, and classify an image with the float reference engine.
set -euo pipefail
BUILD_DIR=${1:-build/release}
MCUSPLIT="$BUILD_DIR/src/mcusplit"
OUT="$BUILD_DIR/demo"
mkdir -p "$OUT"

echo "== mcusplit zoo: MobileNetV2-1.0 at 224, 1000 classes, seed 1"
"$MCUSPLIT" zoo mobilenetv2 --width 1.0 --resolution 224 --classes 1000 --seed 1 -o "$OUT/mobilenetv2.onnx"

echo
echo "== mcusplit inspect (first and last layers, then totals)"
"$MCUSPLIT" inspect "$OUT/mobilenetv2.onnx" > "$OUT/inspect.txt"
head -n 6 "$OUT/inspect.txt"
echo "  ..."
tail -n 8 "$OUT/inspect.txt"

echo
IMAGE=tests/data/images/fashion_test0_ankle-boot.pgm
echo "== mcusplit infer on $IMAGE (seeded weights, so the classes are arbitrary)"
time "$MCUSPLIT" infer "$OUT/mobilenetv2.onnx" --input "$IMAGE" --output "$OUT/logits.pb"
