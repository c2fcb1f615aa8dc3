# Shared set-up of the emulated-MCU benchmarks (bench_qemu.sh,
# bench_icount.sh), sourced with BIG and BENCH (the script's name, for
# messages) set; BUILD_DIR, JOBS, WORK (default: a new temporary directory)
# and IMAGE (the MobileNetV2 input) may come from the environment. Sets the
# Fashion-MNIST input (FASHION_IMAGE, FASHION_ARGS), checks the tools, builds mcusplit and the
# device firmware unless MCUSPLIT is given, sets M (the mcusplit binary) and
# firmware_args (--firmware FIRMWARE if FIRMWARE is set), and quantizes the
# models into WORK (once): fashion.mq, mnv2-small.mq (MobileNetV2 0.35 at 96,
# 10 classes) and with BIG=1 mnv2.mq (MobileNetV2-1.0 at 224, 1000 classes).
# Defines plan_and_reference.
BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}
WORK=${WORK:-$(mktemp -d)}
FASHION_IMAGE=tests/data/images/fashion_test0_ankle-boot.pgm
FASHION_ARGS=(--mean 0.2860 --std 0.3530 --no-crop)
IMAGE=${IMAGE:-tests/data/images/fashion_test1_pullover.pgm}  # any image for MobileNetV2

for tool in qemu-system-arm arm-none-eabi-g++; do
  command -v "$tool" > /dev/null || { echo "$BENCH: $tool not found" >&2; exit 1; }
done
mkdir -p "$WORK"
if [[ -z "${MCUSPLIT:-}" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$BUILD_DIR" --target mcusplit mcusplit_firmware -j "$JOBS" > /dev/null
  MCUSPLIT="$BUILD_DIR/src/mcusplit"
fi
M=$MCUSPLIT
firmware_args=()
[[ -n "${FIRMWARE:-}" ]] && firmware_args=(--firmware "$FIRMWARE")

if [[ ! -f "$WORK/fashion.mq" ]]; then
  "$M" quantize models/fashion_mnist_mbv2.onnx --calib random --samples 8 \
    -o "$WORK/fashion.mq" > /dev/null
  "$M" zoo mobilenetv2 --width 0.35 --resolution 96 --classes 10 -o "$WORK/mnv2-small.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2-small.onnx" --calib random --samples 8 -o "$WORK/mnv2-small.mq" > /dev/null
fi
if [[ "$BIG" == 1 && ! -f "$WORK/mnv2.mq" ]]; then
  "$M" zoo mobilenetv2 --width 1.0 --resolution 224 --classes 1000 --seed 1 \
    -o "$WORK/mnv2.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2.onnx" --calib random --samples 8 -o "$WORK/mnv2.mq" > /dev/null
fi

# plan_and_reference NAME MODEL DEVICES [plan args] -- [input args]: plans
# MODEL.mq onto DEVICES (TOPOLOGY, default star) as $WORK/NAME.plan and writes the
# single-device output $WORK/NAME.single.pb; leaves the input args in
# INPUT_ARGS for the run.
plan_and_reference() {
  local name=$1 model=$2 devices=$3
  shift 3
  local plan_args=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do plan_args+=("$1"); shift; done
  shift
  INPUT_ARGS=("$@")
  "$M" plan "$WORK/$model.mq" --devices "$devices" --topology "${TOPOLOGY:-star}" "${plan_args[@]}" \
    -o "$WORK/$name.plan" > /dev/null
  "$M" infer "$WORK/$model.mq" "${INPUT_ARGS[@]}" --output "$WORK/$name.single.pb" > /dev/null
}

# check_bit_exact NAME: the split output $WORK/NAME.pb against the reference.
check_bit_exact() {
  if ! cmp -s "$WORK/$1.pb" "$WORK/$1.single.pb"; then
    echo "$BENCH: $1: split output differs from mcusplit infer" >&2
    exit 1
  fi
}
