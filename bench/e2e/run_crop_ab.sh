#!/usr/bin/env bash
# A/B of the crop size through a real facecycled: faces cropped at their own scale (default)
# against crops at the model's 64 px ([plugins.crop] max_crop_size = 64, the old behaviour).
# Alternates fresh daemons ROUNDS times; per daemon: one --whole-image job of N UTKFace chips,
# and 10 jobs of one group photo (YuNet, 7 faces). fp32.
#   bench/e2e/run_crop_ab.sh [--chips N] [--rounds R]
# Needs ../shared (UTKFace, group photos, YuNet) and a build in ./build.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
chips=1000 rounds=2
while [ $# -gt 0 ]; do
  case $1 in
    --chips) chips=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) sed -n 2,7p "$0"; exit 2 ;;
  esac
done
shared=$(cd "$here/../shared" && pwd -P)
bin=$here/build/bin
work=$(mktemp -d /tmp/fc-crop-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/chips"
mapfile -t all < <(ls "$shared/data/utkface")  # not `ls | head`: pipefail would stop on SIGPIPE
for f in "${all[@]:0:$chips}"; do ln -s "$shared/data/utkface/$f" "$work/chips/"; done
photo=$shared/data/group_photos/2007_007763.jpg
now() { date +%s.%N; }
echo "| round | crops | $chips chips s | photo s (median of 10) |"
echo "|---|---|---|---|"
for r in $(seq "$rounds"); do
  for mode in own 64; do
    d=$work/d-$r-$mode
    mkdir -p "$d"
    printf 'precision = "fp32"\n[plugins.detect]\ndetector = "yunet"\nyunet_model = "%s"\n' \
      "$shared/models/face_detection_yunet_2022mar.onnx" >"$d/c.toml"
    if [ $mode = 64 ]; then printf '[plugins.crop]\nmax_crop_size = 64\n' >>"$d/c.toml"; fi
    "$bin/facecycled" --data-dir "$d/data" --config "$d/c.toml" --allow "$work" \
      --allow "$shared/data" --log-level warn >"$d/log" 2>&1 &
    pid=$!
    export FACECYCLE_SERVER=unix:$d/data/facecycled.sock
    for _ in $(seq 100); do "$bin/facecycle" health >/dev/null 2>&1 && break; sleep 0.2; done
    t0=$(now)
    "$bin/facecycle" transform --task age --whole-image -o "$d/out" "$work/chips" >/dev/null
    bulk=$(awk -v a="$(now)" -v b="$t0" 'BEGIN {printf "%.1f", a - b}')
    "$bin/facecycle" transform --task age -o "$d/p0" "$photo" >/dev/null  # loads YuNet
    times=()
    for i in $(seq 10); do
      t0=$(now)
      "$bin/facecycle" transform --task age -o "$d/p$i" "$photo" >/dev/null
      times+=("$(awk -v a="$(now)" -v b="$t0" 'BEGIN {print a - b}')")
    done
    med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{v[NR]=$1} END {printf "%.3f", (v[int((NR+1)/2)] + v[int(NR/2)+1]) / 2}')
    echo "| $r | $mode | $bulk | $med |"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
