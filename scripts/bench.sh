#!/usr/bin/env bash
# Builds Release and runs the Google Benchmark programs (bench/), printing the
# median of 5 repetitions of each benchmark. Extra arguments go to every
# program (e.g. --benchmark_filter=Depthwise).
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCUSPLIT_BUILD_BENCH=ON > /dev/null
cmake --build "$BUILD_DIR" --target bench_int8_kernels bench_int8_model bench_frame_tag -j "$JOBS"

for bench in bench_int8_kernels bench_int8_model bench_frame_tag; do
  echo "== $bench (median of 5 repetitions)"
  "$BUILD_DIR/bench/$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_display_aggregates_only=true "$@" | grep -E '^(-|Benchmark|Run on|CPU|Load)|_median'
done
