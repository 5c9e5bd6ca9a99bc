#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz) with clang, ASan and UBSan into ./build-fuzz, then
# runs each for SECONDS (default 30) from its seed corpus. Exits non-zero on any finding; the
# input that caused it is left in build-fuzz/findings/.
#   bash scripts/fuzz.sh [SECONDS] [NAME...]      e.g. bash scripts/fuzz.sh 600 train_config
# The mutation seed is fixed (FUZZ_SEED, default 1) so that CI repeats itself; set another seed,
# or run longer, to explore further.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(image_decode train_config daemon_config model_card model_file transform_request)

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
# As in build.sh: cache keys relative to the checkout; the debug info (-g) names relative paths.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  CC=clang CXX=clang++ cmake "${gen[@]}" -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACECYCLE_FUZZ=ON >/dev/null
fi
targets=()
for n in "${names[@]}"; do targets+=(--target "fuzz_$n"); done
nice -n 10 cmake --build build-fuzz -j"$(nproc)" "${targets[@]}"

mkdir -p build-fuzz/findings
# Leaks are checked too, less the one in LibTorch's own zip reader (tests/fuzz/lsan.supp).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tests/fuzz/lsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# One harness per core at a time: each is single-threaded, and CI's two cores would otherwise
# spend half of the fuzzing time idle.
run_one() {
  local n=$1 work="build-fuzz/corpus/$1" log="build-fuzz/fuzz_$1.log"
  mkdir -p "$work"
  if build-fuzz/bin/fuzz_"$n" "$work" "tests/fuzz/corpus/$n" -max_total_time="$seconds" -seed="${FUZZ_SEED:-1}" \
       -timeout=20 -rss_limit_mb=3072 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="build-fuzz/findings/${n}-" >"$log" 2>&1; then
    echo "fuzz_$n: ${seconds}s $(grep -a -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" | tr '\n' ' ')"
  else
    echo "fuzz_$n FAILED: see $log and build-fuzz/findings/" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}
failed=0
pids=()
for n in "${names[@]}"; do
  run_one "$n" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$(nproc)" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
