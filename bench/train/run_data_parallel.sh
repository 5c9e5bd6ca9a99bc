#!/usr/bin/env bash
# Training pairs/s with one process and with two data-parallel workers (fc-train,
# distributed.workers = 2, Gloo over loopback), run back to back on this machine with the same
# global batch B: one process with 1 thread, one with 2 threads, and two workers with 1 thread
# and batch B/2 each. Prints a Markdown table with the ratios to the first.
#   bench/train/run_data_parallel.sh [build-dir] [steps] [size] [global-batch] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
STEPS=${2:-40}
SIZE=${3:-32}
BATCH=${4:-8}
WARMUP=3
ROUNDS=${5:-3}
BIN=$BUILD/bin/fc-train
[ -x "$BIN" ] || cmake --build "$BUILD" -j2 --target fc-train
work=$(mktemp -d /tmp/fc-dp-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

config() {  # WORKERS THREADS BATCH
  cat <<TOML
seed = 3
threads = $2
model_name = "dp"
log_every = 1
[data]
synthetic = {n = 400, seed = 5}
workers = 1
[tasks.age]
a = {age = [20, 29]}
b = {age = [50, 59]}
[[stages]]
size = $SIZE
steps = $STEPS
batch = $3
[checkpoint]
every = 100000
[eval]
enabled = false
[distributed]
workers = $1
TOML
}

# Pairs/s between step WARMUP and the last, from rank 0's metrics.jsonl timestamps.
run() {  # NAME WORKERS THREADS BATCH
  mkdir -p "$work/$1"
  config "$2" "$3" "$4" >"$work/$1/config.toml"
  "$BIN" --config "$work/$1/config.toml" --job-dir "$work/$1/job" >"$work/$1/log" 2>&1 ||
    { cat "$work/$1/log" >&2; exit 1; }
  python3 - "$work/$1/job/metrics.jsonl" "$WARMUP" "$STEPS" "$(($2 * $4))" <<'PY'
import json, sys
path, w, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = {}
for line in open(path):
    j = json.loads(line)
    if j["name"] == "lr":
        t[j["step"]] = j["t"]
print(f"{(n - w) * batch / (t[n] - t[w]):.2f}")
PY
}

# Interleaved rounds, so that load from other work on a shared machine hits every row alike; the
# table shows each row's median and the range of the per-round ratios.
rows=""
for r in $(seq "$ROUNDS"); do
  rows="$rows $(run "one$r" 1 1 "$BATCH"),$(run "onetwo$r" 1 2 "$BATCH"),$(run "two$r" 2 1 $((BATCH / 2)))"
  rm -rf "$work"/*"$r"
done
echo "Pairs/s of \`fc-train\` on one task at $SIZE px (generator width 32, 6 blocks), global batch"
echo "$BATCH, timed from step $WARMUP to $STEPS by rank 0's metrics.jsonl clock; $ROUNDS interleaved"
echo "rounds, medians. Two workers (Gloo on loopback) take batch $((BATCH / 2)) each; ratios are to one"
echo "process with 1 thread, per round (range)."
echo
echo "| processes | threads each | batch each | pairs/s | ratio | per-round ratios |"
echo "|---|---|---|---|---|---|"
python3 - "$BATCH" $rows <<'PY'
import statistics, sys
b = int(sys.argv[1])
rounds = [list(map(float, r.split(","))) for r in sys.argv[2:]]
cols = list(zip(*rounds))
med = [statistics.median(c) for c in cols]
for i, (p, t, bb) in enumerate([(1, 1, b), (1, 2, b), (2, 1, b // 2)]):
    ratios = [r[i] / r[0] for r in rounds]
    print(f"| {p} | {t} | {bb} | {med[i]:.2f} | {med[i] / med[0]:.2f} | "
          f"{min(ratios):.2f}-{max(ratios):.2f} |")
PY
