#!/usr/bin/env bash
# Every benchmark row in one command: builds the bench targets, runs each section (facecycle and
# its PyTorch reference back to back on this machine), prints the tables and rewrites the
# generated blocks of docs/BENCHMARKS.md (between <!-- BEGIN bench:NAME --> and END markers).
#
#   bench/run_all.sh [--build DIR] [--quick]
#                    [--only "model train train_bf16 train_dp blas e2e queue"]
#                    [--no-doc] [--results DIR]
# --results keeps each section's Markdown in DIR (default: a temporary folder).
#
# --quick runs a few rows per section (a smoke run, about 3 minutes); the default is the full
# suite (about 15 minutes on 2 cores). Needs /usr/bin/python3 with python3-torch for the
# reference rows (scripts/install-deps.sh installs it); the e2e rows need ../shared.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
quick=""
only="model train train_bf16 train_dp blas e2e queue"
write_doc=1
results=""
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --quick) quick=quick; shift ;;
    --only) only=$2; shift 2 ;;
    --no-doc) write_doc=""; shift ;;
    --results) results=$2; shift 2 ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
has() { [[ " $only " == *" $1 "* ]]; }

if [ -n "$results" ]; then
  out=$results
  mkdir -p "$out"
else
  out=$(mktemp -d /tmp/fc-bench.XXXXXX)
  trap 'rm -rf "$out"' EXIT
fi
echo "== building bench targets in $build" >&2
cmake --build "$build" -j"$(nproc)" --target bench_generator bench_train_step bench_queue bench_peak_flops \
  facecycled facecycle test-flip train generate-age composite crop detect fc-train >&2

# Machine line and the FP32 peak. Nominal: cores x clock x FLOP per cycle (Zen 4 and most
# AVX-512 CPUs without a second 512-bit FMA port retire 16 FP32 FMAs = 32 FLOP per cycle per core;
# CPUs with two 512-bit FMA ports do 64: set FC_FLOP_PER_CYCLE). Measured: bench_peak_flops runs
# independent FMAs on every core, turbo included; "% of peak" uses the measured one.
cpu=$(lscpu | sed -n 's/^Model name: *//p')
cores=$(nproc)
mhz=$(lscpu | sed -n 's/^CPU max MHz: *//p' | cut -d. -f1)
[ -n "$mhz" ] || mhz=$(awk -F: '/^cpu MHz/ {printf "%d", $2; exit}' /proc/cpuinfo)
fpc=${FC_FLOP_PER_CYCLE:-32}
peak=$(awk -v c="$cores" -v m="$mhz" -v f="$fpc" 'BEGIN {printf "%.0f", c * m / 1000 * f}')
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)
machine="$cpu, $cores cores at $mhz MHz, $(free -g | awk '/^Mem/ {print $2}') GiB; BLAS $blas;\
 FP32 peak $cores x $mhz MHz x $fpc FLOP/cycle = $peak GFLOP/s; load before the run \
$(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)"
measured=$("$build/bin/bench_peak_flops")
mpeak=$(echo "$measured" | python3 -c "import json,sys; print(round(json.load(sys.stdin)['gflops_all']))")
machine="$machine; measured FMA peak $mpeak GFLOP/s ($(echo "$measured" | python3 -c "import json,sys; j=json.load(sys.stdin); print(j['isa'], j['gflops_1core'], 'per core')"))"
echo "$machine" >"$out/machine.md"
export FC_PEAK_GFLOPS=$mpeak FC_CORES=$cores
echo "== $machine" >&2

section() {  # NAME COMMAND...: runs it, keeps stdout as the section's Markdown
  local name=$1
  shift
  echo "== $name" >&2
  local t0=$SECONDS
  if "$@" >"$out/$name.md"; then
    echo "_Ran in $((SECONDS - t0)) s._" >>"$out/$name.md"
  else
    echo "_Section failed (exit $?); see the run's stderr._" >>"$out/$name.md"
  fi
  cat "$out/$name.md"
}

if has model; then section model "$here/bench/run_model_bench.sh" "$build" $quick; fi
if has train; then
  if [ -n "$quick" ]; then
    section train "$here/bench/run_train_bench.sh" "$build" 1 "32:8 64:4"
  else
    section train "$here/bench/run_train_bench.sh" "$build" 1
  fi
fi
if has train_bf16; then
  if [ -n "$quick" ]; then
    section train_bf16 "$here/bench/train/run_precision_quality.sh" "$build" 60
  else
    section train_bf16 "$here/bench/train/run_precision_quality.sh" "$build" 400
  fi
fi
if has train_dp; then
  if [ -n "$quick" ]; then
    section train_dp "$here/bench/train/run_data_parallel.sh" "$build" 8 32 8 1
  else
    section train_dp "$here/bench/train/run_data_parallel.sh" "$build" 15 32 8 3
  fi
fi
if has blas; then section blas "$here/bench/run_blas_bench.sh" "$build"; fi
if has e2e; then
  if [ -n "$quick" ]; then
    section e2e "$here/bench/e2e/run_e2e_bench.sh" "$build" --chips 200 --photo-runs 2
  else
    section e2e "$here/bench/e2e/run_e2e_bench.sh" "$build"
  fi
fi
if has queue; then
  queue_md() {
    local args=()
    [ -n "$quick" ] && args=(--submits 50 --items 100 --store-items 1000 --daemons 1,2)
    "$build/bin/bench_queue" "${args[@]}" --daemon "$build/bin/facecycled"
  }
  section queue queue_md
fi

if [ -n "$write_doc" ]; then
  python3 "$here/bench/update_benchmarks.py" "$here/docs/BENCHMARKS.md" "$out" $only
  echo "== docs/BENCHMARKS.md updated (generated blocks: $only)" >&2
fi
