#!/usr/bin/env bash
# End to end through a real facecycled and the facecycle CLI, with the shipped model:
#   - a group photo scaled to 1 megapixel, 7 faces (YuNet): CLI wall time per photo;
#   - a bulk --whole-image job of N UTKFace chips: chips/s and the projected time for 20,000;
#   - daemon RSS: idle, peak during 1 job, peak during 8 concurrent jobs.
# The photo and bulk rows run once per precision (fp32, then bf16 where the CPU has it), each in
# a fresh daemon, so the bf16 gain is measured in the same run.
#
#   bench/e2e/run_e2e_bench.sh [BUILD_DIR] [--chips N] [--photo-runs N] [--json FILE]
# Needs ../shared (UTKFace, group photos, YuNet); prints a skip line without it.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$here/build
chips=2000
photo_runs=5
json_out=""
while [ $# -gt 0 ]; do
  case $1 in
    --chips) chips=$2; shift 2 ;;
    --photo-runs) photo_runs=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) build=$1; shift ;;
  esac
done
shared=$(cd "${FACECYCLE_SHARED:-$here/../shared}" 2>/dev/null && pwd -P || echo /nonexistent)
utk=$shared/data/utkface
yunet=$shared/models/face_detection_yunet_2022mar.onnx
photo_src=$shared/data/group_photos/2007_007763.jpg  # 7 faces (PASCAL truth), 500x375
if [ ! -d "$utk" ] || [ ! -f "$yunet" ] || [ ! -f "$photo_src" ]; then
  echo "e2e bench skipped: needs $utk, $yunet and $photo_src (../shared)" >&2
  exit 0
fi
for b in facecycled facecycle; do
  [ -x "$build/bin/$b" ] || { echo "missing $build/bin/$b: cmake --build $build" >&2; exit 1; }
done
PY=/usr/bin/python3
work=$(mktemp -d /tmp/fc-e2e-bench.XXXXXX)
daemon_pid=""
sampler_pid=""
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Inputs: the PASCAL photo scaled to 1.0 MP, and the first N chips (sorted names, labelled ones).
mkdir -p "$work/photo" "$work/chips"
$PY - "$photo_src" "$work/photo/group_1mp.jpg" <<'EOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
f = (1.0e6 / (im.width * im.height)) ** 0.5
im.resize((round(im.width * f), round(im.height * f)), Image.BICUBIC).save(sys.argv[2], quality=95)
EOF
find "$utk" -maxdepth 1 -name '*_*_*_*.jpg.chip.jpg' | sort >"$work/all_chips.txt"
head -n "$chips" "$work/all_chips.txt" | while read -r f; do ln -s "$f" "$work/chips/"; done
n_chips=$(ls "$work/chips" | wc -l)

start_daemon() {  # $1 = precision
  local dir=$work/d-$1
  mkdir -p "$dir"
  cat >"$dir/facecycled.toml" <<EOF
precision = "$1"
[plugins.detect]
detector = "yunet"
yunet_model = "$yunet"
EOF
  "$build/bin/facecycled" --data-dir "$dir/data" --config "$dir/facecycled.toml" \
    --allow "$work" --allow "$utk" --log-level warn >"$dir/daemon.log" 2>&1 &
  daemon_pid=$!
  export FACECYCLE_SERVER=unix:$dir/data/facecycled.sock
  for _ in $(seq 100); do
    "$build/bin/facecycle" health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "facecycled did not start; log:" >&2
  cat "$dir/daemon.log" >&2
  exit 1
}
stop_daemon() {
  kill "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status"; }
start_sampler() {  # peak RSS into $1 every 50 ms
  (peak=0; while kill -0 "$daemon_pid" 2>/dev/null; do
     r=$(rss_kb 2>/dev/null || echo 0)
     # write-then-rename: killing the sampler mid-write must not leave an empty file
     [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" >"$1.tmp" && mv "$1.tmp" "$1"
     sleep 0.05; done) &
  sampler_pid=$!
}
stop_sampler() { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""; }
now() { date +%s.%N; }
cli() { "$build/bin/facecycle" "$@"; }

results=$work/results.jsonl
precisions="fp32"
grep -q ' avx512_bf16' /proc/cpuinfo && precisions="fp32 bf16"
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for prec in $precisions; do
  start_daemon "$prec"
  idle_kb=$(rss_kb)
  # Group photo: the first run loads YuNet; then N timed runs, each a new job from the CLI.
  cli transform --task age -o "$work/out-photo-$prec" "$work/photo/group_1mp.jpg" >/dev/null
  times=()
  for i in $(seq "$photo_runs"); do
    t0=$(now)
    cli transform --task age -o "$work/out-photo-$prec-$i" "$work/photo/group_1mp.jpg" >/dev/null
    times+=("$(awk -v a="$(now)" -v b="$t0" 'BEGIN {print a - b}')")
  done
  last=$(cli --json jobs | $PY -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
  faces=$(cli --json show "$last" | $PY -c "
import json, sys
j = json.load(sys.stdin)
r = (j.get('items') or [{}])[0].get('report') or {}
for s in r.get('faces_skipped', []): print('photo face skipped:', s, file=sys.stderr)
print(f\"{r.get('faces_edited', 0)}/{r.get('faces_found', 0)}\")")
  # Bulk chips, one job, with RSS sampled.
  start_sampler "$work/peak1-$prec"
  t0=$(now)
  cli transform --task age --whole-image -o "$work/out-chips-$prec" "$work/chips" >/dev/null
  bulk_s=$(awk -v a="$(now)" -v b="$t0" 'BEGIN {print a - b}')
  stop_sampler
  # 8 concurrent jobs of chips/8 each (RSS under concurrency; first precision only).
  peak8=0
  if [ "$prec" = fp32 ]; then
    mkdir -p "$work/chips8"
    start_sampler "$work/peak8"
    ids=()
    for j in $(seq 8); do
      mkdir -p "$work/chips8/$j"
      ls "$work/chips" | sed -n "$(( (j - 1) * n_chips / 8 + 1 )),$(( j * n_chips / 8 ))p" |
        while read -r f; do ln -s "$(readlink "$work/chips/$f")" "$work/chips8/$j/"; done
      ids+=("$(cli --json transform --task race --whole-image --detach -o "$work/out8-$j" \
        "$work/chips8/$j" | $PY -c "import json,sys; print(json.load(sys.stdin)['job_id'])")")
    done
    for id in "${ids[@]}"; do cli watch "$id" >/dev/null || true; done
    stop_sampler
    peak8=$(cat "$work/peak8")
  fi
  $PY - "$prec" "$idle_kb" "$(cat "$work/peak1-$prec")" "$peak8" "$bulk_s" "$n_chips" "$faces" \
    "${times[@]}" >>"$results" <<'EOF'
import json, statistics, sys
prec, idle, peak1, peak8, bulk_s, n, faces = sys.argv[1:8]
times = sorted(float(t) for t in sys.argv[8:])
print(json.dumps({"precision": prec, "idle_rss_mb": int(idle) / 1024,
                  "peak_rss_1job_mb": int(peak1) / 1024, "peak_rss_8jobs_mb": int(peak8) / 1024,
                  "bulk_s": float(bulk_s), "chips": int(n), "chips_per_s": int(n) / float(bulk_s),
                  "photo_faces_edited_found": faces, "photo_s_median": statistics.median(times),
                  "photo_s_min": times[0]}))
EOF
  stop_daemon
done
[ -n "$json_out" ] && cp "$results" "$json_out"
$PY - "$results" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| precision | 1 MP photo: faces edited/found | photo s (median, min) | chips | bulk s | chips/s "
      "| 20,000 chips (projected) | RSS idle / 1 job / 8 jobs (MB) |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    proj = 20000 / r["chips_per_s"] / 60
    rss = f"{r['idle_rss_mb']:.0f} / {r['peak_rss_1job_mb']:.0f}"
    rss += f" / {r['peak_rss_8jobs_mb']:.0f}" if r["peak_rss_8jobs_mb"] else " / -"
    print(f"| {r['precision']} | {r['photo_faces_edited_found']} | {r['photo_s_median']:.2f} ({r['photo_s_min']:.2f}) "
          f"| {r['chips']} | {r['bulk_s']:.1f} | {r['chips_per_s']:.1f} | {proj:.1f} min | {rss} |")
EOF
