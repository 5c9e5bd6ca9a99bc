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

bf16=0
grep -q ' avx512_bf16' /proc/cpuinfo && bf16=1
echo "Pairs/s of one training step (G and both Ds), $THREADS thread(s), random inputs. bf16 means"
echo "CPU autocast of the forward passes on both sides (weights, gradients and Adam stay fp32)."
echo
echo "| size | batch | D layers | LibTorch fp32 | PyTorch fp32 | ratio | LibTorch bf16 | PyTorch bf16 | ratio | LibTorch bf16 / PyTorch fp32 |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for spec in $SPECS; do
  size=${spec%%:*}
  batch=${spec##*:}
  cj=$("$BIN" --size "$size" --batch "$batch" --threads "$THREADS")
  c=$(echo "$cj" | field pairs_per_s)
  layers=$(echo "$cj" | field d_layers)
  p=$($PY bench/reference/train_step.py --size "$size" --batch "$batch" --threads "$THREADS" | field pairs_per_s)
  if [ "$bf16" = 1 ]; then
    cb=$("$BIN" --size "$size" --batch "$batch" --threads "$THREADS" --bf16 1 | field pairs_per_s)
    pb=$($PY bench/reference/train_step.py --size "$size" --batch "$batch" --threads "$THREADS" --bf16 1 | field pairs_per_s)
  else
    cb=0 pb=0
  fi
  $PY - "$size" "$batch" "$layers" "$c" "$p" "$cb" "$pb" <<'EOF2'
import sys
size, batch, layers = sys.argv[1:4]
c, p, cb, pb = map(float, sys.argv[4:8])
bf = f"{cb:.2f} | {pb:.2f} | {cb / pb:.2f} | {cb / p:.2f}" if pb else "- | - | - | -"
print(f"| {size} | {batch} | {layers} | {c:.2f} | {p:.2f} | {c / p:.2f} | {bf} |")
EOF2
done
