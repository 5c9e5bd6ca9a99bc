#!/usr/bin/env bash
# Issue 15's bulk goal through a real facecycled and the facecycle CLI: one --recursive
# --whole-image job over N UTKFace chips in a nested tree (<race>/<age decade>/, as a labelled
# dataset is kept), the daemon killed with SIGKILL K times while it runs (restarted each time),
# then the same command again with --skip-existing. Checks that every input has exactly one
# output in the mirrored tree, that the manifest lists every input once, and that the re-run
# redid nothing; prints the times.
#
#   bench/e2e/run_bulk_bench.sh [BUILD_DIR] [--chips N] [--kills K] [--kill-every S]
# Needs ../shared/data/utkface; the chips are symlinked into a folder under /tmp, never copied
# into the repository.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$here/build
chips=2000
kills=3
kill_every=20
while [ $# -gt 0 ]; do
  case $1 in
    --chips) chips=$2; shift 2 ;;
    --kills) kills=$2; shift 2 ;;
    --kill-every) kill_every=$2; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) build=$1; shift ;;
  esac
done
utk=$(cd "${FACECYCLE_SHARED:-$here/../shared}/data/utkface" 2>/dev/null && pwd -P) || {
  echo "bulk bench skipped: needs ../shared/data/utkface" >&2; exit 0; }
work=$(mktemp -d /tmp/fc-bulk-bench.XXXXXX)
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
cli() { "$build/bin/facecycle" --server "unix:$work/data/facecycled.sock" "$@"; }

# <race>/<age decade>/<chip>: the labels UTKFace keeps in its file names.
find "$utk" -maxdepth 1 -name '*_*_*_*.jpg.chip.jpg' | sort >"$work/all.txt"
head -n "$chips" "$work/all.txt" | while read -r f; do
  IFS=_ read -r age _ race _ <<<"$(basename "$f")"
  d=$work/in/race$race/age$((age / 10))0s
  mkdir -p "$d" && ln -s "$f" "$d/"
done
n=$(find "$work/in" -type l | wc -l)
folders=$(find "$work/in" -mindepth 2 -type d | wc -l)

start_daemon() {
  "$build/bin/facecycled" --data-dir "$work/data" --allow "$work" --allow "$utk" \
    --log-level warn >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 150); do cli health >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "facecycled did not start:" >&2; cat "$work/daemon.log" >&2; exit 1
}
job_field() {  # $1 = id, $2 = field of the job summary
  cli --json jobs --limit 5 | python3 -c "
import json, sys
print(next(j['$2'] for j in json.load(sys.stdin) if j['id'] == $1))"
}
# Not in $(...): a daemon restarted in a subshell would be unknown to cleanup.
run() {  # "$@" = extra transform flags; sets $id; kills the daemon $kills times
  local k=0
  id=$(cli transform --task age --whole-image --recursive --format png --detach "$@" \
         -o "$work/out" "$work/in")
  while [ "$(job_field "$id" state)" != succeeded ]; do
    state=$(job_field "$id" state)
    case $state in failed|cancelled) echo "job $id $state" >&2; exit 1 ;; esac
    if [ "$k" -lt "$kills" ]; then
      sleep "$kill_every"
      [ "$(job_field "$id" state)" = succeeded ] && break
      kill -9 "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
      k=$((k + 1)); start_daemon
    else
      sleep 1
    fi
  done
}

echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start_daemon
t0=$(now)
run
id1=$id
t1=$(now)
kills_done=$kills
kills=0
run --skip-existing
id2=$id
t2=$(now)

outputs=$(find "$work/out" -name '*.png' ! -name 'contact_sheet_*' | wc -l)
mirrored=$(cd "$work/in" && find . -type l | sed 's/\.jpg$/.png/' | sort | \
             (cd "$work/out" && while read -r f; do [ -f "$f" ] && echo ok; done) | wc -l)
rows1=$(wc -l <"$work/out/manifest_job$id1.jsonl")
distinct1=$(python3 -c "
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(len({r['input'] for r in rows}), sum(r['state'] == 'succeeded' for r in rows))" \
  "$work/out/manifest_job$id1.jsonl")
skipped2=$(python3 -c "
import json, sys
print(sum(json.loads(l)['state'] == 'skipped' for l in open(sys.argv[1])))" \
  "$work/out/manifest_job$id2.jsonl")
awk -v n="$n" -v f="$folders" -v k="$kills_done" -v a="$t0" -v b="$t1" -v c="$t2" \
  -v o="$outputs" -v m="$mirrored" -v r="$rows1" -v d="$distinct1" -v s="$skipped2" 'BEGIN {
  printf "| chips | folders | SIGKILLs | first run s | chips/s | outputs (in the mirrored place) | manifest rows (distinct inputs, succeeded) | --skip-existing re-run s | skipped |\n"
  printf "|---|---|---|---|---|---|---|---|---|\n"
  printf "| %d | %d | %d | %.1f | %.1f | %d (%d) | %d (%s) | %.1f | %d |\n", n, f, k, b - a, n / (b - a), o, m, r, d, c - b, s
}'
