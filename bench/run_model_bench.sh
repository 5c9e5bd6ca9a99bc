#!/bin/sh
# Generator inference: LibTorch (bench_generator) against the PyTorch reference
# (bench/reference/generator.py, /usr/bin/python3), each configuration run by both back to back.
# Usage: bench/run_model_bench.sh [BUILD_DIR] [quick]   (default build dir: build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/bin/bench_generator
ref="/usr/bin/python3 $here/bench/reference/generator.py"
[ -x "$bin" ] || { echo "missing $bin: cmake --build $build --target bench_generator" >&2; exit 1; }
out=$(mktemp)
trap 'rm -rf "$out" "$out.d"' EXIT
quick=${2:-}

echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# First: the reference is the same network (same weights in, same output out).
for wb in "32 6" "64 9"; do
  set -- $wb
  mkdir -p "$out.d"
  "$bin" --width "$1" --blocks "$2" --size 64 --batch 4 --dump "$out.d"
  $ref --width "$1" --blocks "$2" --verify "$out.d" >&2
done
run() {  # args for both programs
  "$bin" "$@" >>"$out"
  $ref "$@" >>"$out"
}
shipped=$here/models/facecycle-utk-v1.pt
for m in "$here"/models/facecycle-utk-v*.pt; do shipped=$m; done  # the newest shipped model
bf16_rows() {  # bf16 against fp32, both sides, plus the shipped model's bf16 quality (LibTorch)
  if grep -q ' avx512_bf16' /proc/cpuinfo; then
    run --width 32 --blocks 6 --size 128 --batch 16 --dtype bf16
    for d in fp32 bf16; do
      "$bin" --model "$shipped" --size 64 --batch 16 --dtype $d >>"$out"
    done
  fi
}
if [ "$quick" = quick ]; then
  run --width 32 --blocks 6 --size 64 --batch 1
  run --width 32 --blocks 6 --size 128 --batch 16
  bf16_rows
else
  for size in 64 128 256; do
    for batch in 1 16; do run --width 32 --blocks 6 --size $size --batch $batch; done
  done
  for size in 64 128 256; do run --width 64 --blocks 9 --size $size --batch 1; done
  for size in 64 128; do run --width 64 --blocks 9 --size $size --batch 16; done
  # threads and memory format
  for batch in 1 16; do
    run --width 32 --blocks 6 --size 128 --batch $batch --threads 2
    run --width 32 --blocks 6 --size 128 --batch $batch --channels-last 1
  done
  run --width 32 --blocks 6 --size 128 --batch 16 --threads 2 --dtype bf16
  bf16_rows
fi
python3 "$here/bench/model/print_table.py" "$out"
