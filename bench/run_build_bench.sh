#!/usr/bin/env bash
# Cold compile time of the LibTorch-heavy libraries, unity batches (FACECYCLE_UNITY_TORCH=ON, the
# default) against one translation unit per source, in the same run: two fresh Ninja trees, no
# ccache, the same -j. Prints a markdown table.
#   bench/run_build_bench.sh [TARGET...]     default: fc_model fc_train
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fc_model fc_train)
work=$(mktemp -d /tmp/fc_build_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export CCACHE_DISABLE=1
jobs=$(nproc)

# Seconds to build TARGET in a fresh tree configured with unity batches ON or OFF. The
# libraries below it (fc_image, fc_config) are built first and not counted.
build_seconds() {
  local unity=$1 target=$2 tree="$work/$1-$2"
  cmake -G Ninja -S "$here" -B "$tree" -DCMAKE_BUILD_TYPE=Release \
    -DFACECYCLE_UNITY_TORCH="$unity" >/dev/null
  cmake --build "$tree" -j"$jobs" --target fc_image fc_config >/dev/null
  local t0 t1
  t0=$(date +%s.%N)
  cmake --build "$tree" -j"$jobs" --target "$target" >/dev/null
  t1=$(date +%s.%N)
  rm -rf "$tree"
  python3 -c "print(f'{$t1 - $t0:.0f}')"
}

echo "| target (cold, -j$jobs) | one unit per source (s) | unity batches of 8 (s) | speed-up |"
echo "|---|---|---|---|"
for t in "${targets[@]}"; do
  off=$(build_seconds OFF "$t")
  on=$(build_seconds ON "$t")
  printf "| %s | %s | %s | %.1fx |\n" "$t" "$off" "$on" "$(python3 -c "print($off / $on)")"
done
