#!/usr/bin/env bash
# Soak: many inferences back to back on 8 local worker processes, watching
# for leaks. The trained Fashion-MNIST model (FASHION_N inferences, default
# 10,000; int8 calibrated on 200 training images as in `make demo`) and
# MobileNetV2-1.0 at 224 (MNV2_N, default 1,000; `quantize --calib random
# --samples 2`, the `8xteensy41 --ram 256KiB` plan), each with one
# `mcusplit run --repeat N --workers ...` against 8 `mcusplit worker`s this
# script starts, so it knows every PID.
#
# While a run lasts, every process's resident memory (VmRSS of
# /proc/PID/status) and open descriptors (entries of /proc/PID/fd) are
# sampled every SAMPLE_S seconds. The workers compute the same slice every
# inference, so their summed CPU time (/proc/PID/stat) measures how far the
# run is: the warm-up sample is the first at a tenth of it, the end sample
# the last before a process closed a connection (the run's Stop). Growth is
# the largest value from warm-up to end minus the warm-up value. Latency p50
# and p99 of the first and the last tenth of the inferences come from
# `run --json`.
#
# Prints Markdown tables. Exits 1 if any process's RSS grew by 1 MiB or more
# after warm-up, if any process's descriptors grew, or if a run failed or
# its output is not bit-exact with `mcusplit infer`. Builds Release unless
# MCUSPLIT is given.
#
#   scripts/bench_soak.sh
#   FASHION_N=2000 MNV2_N=200 BUILD_DIR=build/x scripts/bench_soak.sh
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}
WORK=${WORK:-$(mktemp -d)}
FASHION_N=${FASHION_N:-10000}
MNV2_N=${MNV2_N:-1000}
SAMPLE_S=${SAMPLE_S:-0.1}
TIMEOUT_MS=${TIMEOUT_MS:-30000}
FASHION=${FASHION:-/usr/share/datasets/fashion-mnist}
FASHION_IMAGE=tests/data/images/fashion_test0_ankle-boot.pgm
FASHION_ARGS=(--mean 0.2860 --std 0.3530 --no-crop)
MNV2_IMAGE=${MNV2_IMAGE:-tests/data/images/fashion_test1_pullover.pgm}  # any image

if [[ -z "${MCUSPLIT:-}" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$BUILD_DIR" --target mcusplit -j "$JOBS" > /dev/null
  MCUSPLIT="$BUILD_DIR/src/mcusplit"
fi
M=$MCUSPLIT
mkdir -p "$WORK"

if [[ ! -f "$WORK/fashion.mq" ]]; then
  "$M" quantize models/fashion_mnist_mbv2.onnx --calib "$FASHION/train-images-idx3-ubyte.gz" \
    --samples 200 -o "$WORK/fashion.mq" > /dev/null
fi
if [[ ! -f "$WORK/mnv2.mq" ]]; then
  "$M" zoo mobilenetv2 -o "$WORK/mnv2.onnx" > /dev/null
  "$M" quantize "$WORK/mnv2.onnx" --calib random --samples 2 -o "$WORK/mnv2.mq" > /dev/null
fi
"$M" plan "$WORK/fashion.mq" --devices 8xteensy41 -o "$WORK/fashion.plan" > /dev/null
"$M" plan "$WORK/mnv2.mq" --devices 8xteensy41 --ram 256KiB -o "$WORK/mnv2.plan" > /dev/null
"$M" infer "$WORK/fashion.mq" --input "$FASHION_IMAGE" "${FASHION_ARGS[@]}" \
  --output "$WORK/fashion.single.pb" > /dev/null
"$M" infer "$WORK/mnv2.mq" --input "$MNV2_IMAGE" --output "$WORK/mnv2.single.pb" > /dev/null

cut -d' ' -f1-3 /proc/loadavg > "$WORK/load-before.txt"
M="$M" WORK="$WORK" SAMPLE_S="$SAMPLE_S" TIMEOUT_MS="$TIMEOUT_MS" \
  FASHION_N="$FASHION_N" MNV2_N="$MNV2_N" FASHION_IMAGE="$FASHION_IMAGE" \
  FASHION_ARGS="${FASHION_ARGS[*]}" MNV2_IMAGE="$MNV2_IMAGE" python3 - <<'PY'
import datetime, json, os, platform, re, subprocess, sys, time

env = os.environ
work, binary = env["WORK"], env["M"]
sample_s = float(env["SAMPLE_S"])
WORKERS = 8
MIB = 1 << 20


def figures(pid):
    """(RSS bytes, open descriptors, CPU ticks) of a live process, else None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
        if rss is None:  # a zombie: exited, not yet reaped
            return None
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        with open(f"/proc/{pid}/stat") as f:
            # After the command name: field 3 (state) on; utime and stime are 14 and 15.
            fields = f.read().rsplit(")", 1)[1].split()
        return int(rss.group(1)) * 1024, fds, int(fields[11]) + int(fields[12])
    except (FileNotFoundError, ProcessLookupError):
        return None


def soak(name, count, input_args, worker_args):
    """Runs `count` inferences on 8 workers; returns the run's JSON and the
    samples, one list per sample: the coordinator's figures, then the workers'."""
    workers = []
    try:
        for _ in range(WORKERS):
            w = subprocess.Popen([binary, "worker", "--listen", "127.0.0.1:0", "--timeout",
                                  env["TIMEOUT_MS"], "--idle-timeout", "120"] + worker_args,
                                 stdout=subprocess.PIPE, text=True)
            workers.append(w)
        addresses = []
        for w in workers:
            line = w.stdout.readline().strip()  # "listening 127.0.0.1:PORT"
            if not line.startswith("listening "):
                sys.exit(f"bench_soak: {name}: a worker printed {line!r}")
            addresses.append(line.split()[1])
        with open(f"{work}/{name}.json", "w") as out:
            run = subprocess.Popen([binary, "run", f"{work}/{name}.plan", "--workers",
                                    ",".join(addresses), "--repeat", str(count), "--timeout",
                                    env["TIMEOUT_MS"], "--json", "--output",
                                    f"{work}/{name}.pb"] + input_args, stdout=out)
            pids = [run.pid] + [w.pid for w in workers]
            samples = []
            while run.poll() is None:
                samples.append([figures(p) for p in pids])
                time.sleep(sample_s)
        if run.returncode != 0:
            sys.exit(f"bench_soak: {name}: run exited with {run.returncode}")
        for w in workers:
            if w.wait(timeout=60) != 0:
                sys.exit(f"bench_soak: {name}: a worker exited with {w.returncode}")
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    with open(f"{work}/{name}.pb", "rb") as a, open(f"{work}/{name}.single.pb", "rb") as b:
        if a.read() != b.read():
            sys.exit(f"bench_soak: {name}: split output differs from mcusplit infer")
    with open(f"{work}/{name}.json") as f:
        return json.load(f), samples


def analyse(samples):
    """Per process (coordinator, workers): figures at warm-up and end, growth."""
    alive = [s for s in samples if all(f is not None for f in s)]
    if len(alive) < 3:
        sys.exit("bench_soak: too few samples with every process alive")
    worker_cpu = [sum(f[2] for f in s[1:]) for s in alive]
    warm = next(i for i, c in enumerate(worker_cpu) if c >= worker_cpu[-1] / 10)
    # The run is over once a process closes a connection (Stop): later
    # samples would count the coordinator's report, not the inferences.
    end = warm
    while end + 1 < len(alive) and all(
            f[1] >= w[1] for f, w in zip(alive[end + 1], alive[warm])):
        end += 1
    processes = []
    for p in range(len(alive[0])):
        after = [s[p] for s in alive[warm:end + 1]]
        processes.append({
            "rss_warm": after[0][0], "rss_end": after[-1][0],
            "rss_growth": max(f[0] for f in after) - after[0][0],
            "fds_warm": after[0][1], "fds_end": after[-1][1],
            "fd_growth": max(f[1] for f in after) - after[0][1],
        })
    return {"samples": len(alive), "warm_sample": warm, "end_sample": end,
            "processes": processes}


fashion_args = ["--input", env["FASHION_IMAGE"]] + env["FASHION_ARGS"].split()
runs = [
    ("fashion", "Fashion-MNIST", int(env["FASHION_N"]), fashion_args, []),
    ("mnv2", "MobileNetV2-1.0 at 224 (256 KiB plan)", int(env["MNV2_N"]),
     ["--input", env["MNV2_IMAGE"]], ["--ram", "256KiB"]),
]
results = []
started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
for name, title, count, input_args, worker_args in runs:
    began = time.monotonic()
    j, samples = soak(name, count, input_args, worker_args)
    results.append((title, count, j, analyse(samples), time.monotonic() - began))

load_before = open(f"{work}/load-before.txt").read().strip()
load_after = " ".join(open("/proc/loadavg").read().split()[:3])
print(f"Soak on {WORKERS} worker processes over loopback TCP (switched), started {started}; "
      f"host {platform.machine()}, {os.cpu_count()} cores, load average {load_before} before, "
      f"{load_after} after; samples every {sample_s} s.")
print()


def kib(b):
    return f"{b / 1024:,.0f}"


print("| model | inferences | process | RSS at warm-up (KiB) | RSS at end (KiB) | "
      "largest growth after warm-up (KiB) | fds at warm-up | fds at end | fd growth |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
problems = []
for title, count, j, a, _ in results:
    coordinator, workers = a["processes"][0], a["processes"][1:]
    rows = [("coordinator", [coordinator]), (f"{len(workers)} workers", workers)]
    for role, ps in rows:
        def span(key):
            lo, hi = min(p[key] for p in ps), max(p[key] for p in ps)
            return kib(lo) if lo == hi else f"{kib(lo)} - {kib(hi)}"

        def fds(key):
            lo, hi = min(p[key] for p in ps), max(p[key] for p in ps)
            return str(lo) if lo == hi else f"{lo} - {hi}"

        growth = max(p["rss_growth"] for p in ps)
        fd_growth = max(p["fd_growth"] for p in ps)
        print(f"| {title} | {count:,} | {role} | {span('rss_warm')} | {span('rss_end')} | "
              f"{kib(growth)} | {fds('fds_warm')} | {fds('fds_end')} | {fd_growth} |")
        if growth >= MIB:
            problems.append(f"{title}: {role}: RSS grew by {growth:,} bytes after warm-up")
        if fd_growth > 0:
            problems.append(f"{title}: {role}: {fd_growth} more open descriptors after warm-up")
print()
print("| model | inferences | p50 first tenth (ms) | p50 last tenth (ms) | last / first | "
      "p99 first tenth (ms) | p99 last tenth (ms) | last / first | p50 / p99 all (ms) | "
      "throughput (1/s) | wall time (s) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for title, count, j, a, wall_s in results:
    p = j["latency_percentiles"]
    first, last, everything = p["first_tenth"], p["last_tenth"], p["all"]
    print(f"| {title} | {count:,} | {first['p50_s'] * 1e3:.2f} | {last['p50_s'] * 1e3:.2f} | "
          f"{last['p50_s'] / first['p50_s']:.2f} | {first['p99_s'] * 1e3:.2f} | "
          f"{last['p99_s'] * 1e3:.2f} | {last['p99_s'] / first['p99_s']:.2f} | "
          f"{everything['p50_s'] * 1e3:.2f} / {everything['p99_s'] * 1e3:.2f} | "
          f"{j['throughput_per_s']:.1f} | {wall_s:.0f} |")
print()
for title, count, j, a, _ in results:
    print(f"{title}: {a['samples']} samples with all processes alive; warm-up at sample "
          f"{a['warm_sample']} (a tenth of the workers' CPU time), end at sample "
          f"{a['end_sample']}")
if problems:
    print()
    for problem in problems:
        print(f"bench_soak: {problem}", file=sys.stderr)
    sys.exit(1)
PY
