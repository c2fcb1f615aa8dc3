#!/usr/bin/env bash
# The main job, as far as the project goes today: MobileNetV2 from the zoo,
# inspected, run in float and in int8 inside one static arena, and planned
# across 8 teensy41 boards; then the trained Fashion-MNIST model quantized
# and classifying real test images.
set -euo pipefail
BUILD_DIR=${1:-build/release}
MCUSPLIT="$BUILD_DIR/src/mcusplit"
OUT="$BUILD_DIR/demo"
FASHION=/usr/share/datasets/fashion-mnist
mkdir -p "$OUT"

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
echo
echo "== mcusplit run: that plan on 8 worker processes over TCP (loopback), against one device"
"$MCUSPLIT" run "$OUT/mobilenetv2.plan" --input "$IMAGE" --output "$OUT/split-output.pb"
"$MCUSPLIT" infer "$OUT/mobilenetv2.mq" --input "$IMAGE" --output "$OUT/single-output.pb" > /dev/null
if cmp -s "$OUT/split-output.pb" "$OUT/single-output.pb"; then
  echo "  split output is bit-exact with the single-device int8 output"
else
  echo "  split output DIFFERS from the single-device int8 output"
  exit 1
fi

echo
echo "== the original paper's scheme on the same cluster (1 MiB each; it needs more than 256 KiB)"
"$MCUSPLIT" plan "$OUT/mobilenetv2.mq" --devices 8xteensy41 --strategy paper --topology star | tail -n 2
echo
echo "== one teensy41 alone cannot hold the 1.4 MiB peak"
"$MCUSPLIT" plan "$OUT/mobilenetv2.mq" --devices 1xteensy41 || true

echo
echo "== Fashion-MNIST: the trained model, quantized with 200 training images"
MODEL=models/fashion_mnist_mbv2.onnx
"$MCUSPLIT" quantize "$MODEL" --calib "$FASHION/train-images-idx3-ubyte.gz" --samples 200 \
  -o "$OUT/fashion.mq"
for image in tests/data/images/fashion_test*.pgm; do
  truth=$(basename "$image" .pgm | sed 's/^fashion_test[0-9]*_//')
  predicted=$("$MCUSPLIT" infer "$OUT/fashion.mq" --input "$image" --mean 0.2860 --std 0.3530 \
    --no-crop --labels models/fashion_mnist_labels.txt --json |
    sed -n 's/.*"label": "\(.*\)".*/\1/p' | head -n 1)
  printf '  %-48s int8 predicts %-12s true label %s\n' "$image" "$predicted" "$truth"
done

echo
echo "== accuracy on the 10,000 test images"
"$MCUSPLIT" eval "$MODEL" --idx "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz"
"$MCUSPLIT" eval "$OUT/fashion.mq" --idx "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz"
