#!/usr/bin/env bash
# Training pairs/s per stage size: facecycle's LibTorch step vs the same step in PyTorch, same
# threads, same machine, run back to back. Prints a Markdown table with the ratio.
#   bench/run_train_bench.sh [build-dir] [threads] ["size:batch ..."]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${2:-2}
SPECS=${3:-"32:8 48:8 64:4 96:2 128:1"}
BIN=$BUILD/bin/bench_train_step
[ -x "$BIN" ] || cmake --build "$BUILD" -j2 --target bench_train_step
PY=/usr/bin/python3
field() { $PY -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }

echo "Pairs/s of one training step (G and both Ds), $THREADS thread(s), random inputs."
echo
echo "| size | batch | D layers | LibTorch pairs/s | PyTorch pairs/s | LibTorch / PyTorch |"
echo "|---|---|---|---|---|---|"
for spec in $SPECS; do
  size=${spec%%:*}
  batch=${spec##*:}
  cpp=$("$BIN" --size "$size" --batch "$batch" --threads "$THREADS")
  py=$($PY bench/reference/train_step.py --size "$size" --batch "$batch" --threads "$THREADS")
  c=$(echo "$cpp" | field pairs_per_s)
  p=$(echo "$py" | field pairs_per_s)
  layers=$(echo "$cpp" | field d_layers)
  ratio=$($PY -c "print(f'{$c / $p:.2f}')")
  printf "| %d | %d | %d | %.2f | %.2f | %s |\n" "$size" "$batch" "$layers" "$c" "$p" "$ratio"
done
