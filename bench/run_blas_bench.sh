#!/usr/bin/env bash
# OpenBLAS (what scripts/install-deps.sh selects) against Debian's reference BLAS, same binary,
# same run: LD_PRELOAD puts the reference libblas.so.3 first, so LibTorch's sgemm_/sgemv_ calls
# bind to it (check with LD_DEBUG=bindings). oneDNN convolutions do not use BLAS at all.
#   bench/run_blas_bench.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
ref=/usr/lib/x86_64-linux-gnu/blas/libblas.so.3
PY=/usr/bin/python3
if [ ! -f "$ref" ]; then
  echo "BLAS comparison skipped: $ref (package libblas3) is not installed."
  exit 0
fi
field() { $PY -c "import json,sys; print(json.loads(sys.stdin.read())['$1'])"; }
echo "| workload | system BLAS ($(basename "$(dirname "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)")")) | reference BLAS | system / reference speed |"
echo "|---|---|---|---|"
gen() { LD_PRELOAD=${1:-} "$build/bin/bench_generator" --size 128 --batch 16 --min-time 3 | field ms_per_face; }
a=$(gen) b=$(gen "$ref")
printf "| generator inference, 32/6, 128 px, batch 16, 1 thread (ms/face) | %.1f | %.1f | %.2fx |\n" "$a" "$b" "$($PY -c "print($b / $a)")"
for spec in 32:8 64:4; do
  step() { LD_PRELOAD=${1:-} "$build/bin/bench_train_step" --size "${spec%%:*}" --batch "${spec##*:}" --threads 1 | field pairs_per_s; }
  a=$(step) b=$(step "$ref")
  printf "| training step, %s px, batch %s, 1 thread (pairs/s) | %.2f | %.2f | %.2fx |\n" "${spec%%:*}" "${spec##*:}" "$a" "$b" "$($PY -c "print($a / $b)")"
done
