#!/usr/bin/env bash
# Does bf16 autocast training learn as well as fp32? Trains the shipped generator shape (32/6)
# twice through a real facecycled, same seed, same synthetic faces (known attributes), once per
# precision, and prints both held-out evaluations (project judge, cycle L1) and wall times.
#   bench/train/run_precision_quality.sh [BUILD_DIR] [STEPS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
steps=${2:-400}
PY=/usr/bin/python3
if ! grep -q ' avx512_bf16' /proc/cpuinfo; then
  echo "bf16 training check skipped: this CPU has no AVX512-BF16."
  exit 0
fi
work=$(mktemp -d /tmp/fc-bf16-quality.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$build/bin/facecycled" --data-dir "$work/data" --log-level warn >"$work/daemon.log" 2>&1 &
pid=$!
export FACECYCLE_SERVER=unix:$work/data/facecycled.sock
for _ in $(seq 100); do "$build/bin/facecycle" health >/dev/null 2>&1 && break; sleep 0.2; done

ids=()
for prec in fp32 bf16; do
  cat >"$work/$prec.toml" <<EOF
seed = 3
threads = 2
precision = "$prec"
model_name = "quality-$prec"
[data]
synthetic = {n = 800, seed = 5}
heldout_fraction = 0.1
[tasks.age]
a = {age = [20, 29]}
b = {age = [50, 59]}
[tasks.race]
a = {race = [0]}
b = {race = [1]}
[generator]
width = 32
blocks = 6
[losses]
lambda_cycle = 5.0
lambda_identity = 0.5
[balance]
mode = "fixed"
[[stages]]
size = 32
steps = $steps
batch = 8
[checkpoint]
every = $steps
[eval]
judge_steps = 200
faces = 48
sample_faces = 2
EOF
  ids+=("$("$build/bin/facecycle" --json train --detach --config "$work/$prec.toml" |
    $PY -c "import json,sys; print(json.load(sys.stdin)['job_id'])")")
done
for id in "${ids[@]}"; do "$build/bin/facecycle" watch "$id" >/dev/null || true; done
for id in "${ids[@]}"; do "$build/bin/facecycle" --json show "$id"; echo; done >"$work/jobs.json"
$PY - "$work/jobs.json" "$steps" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
dec, jobs, i = json.JSONDecoder(), [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    j, i = dec.raw_decode(text, i)
    jobs.append(j)
print(f"Synthetic faces, generator 32/6, {sys.argv[2]} steps at 32 px (batch 8), 2 threads, "
      "same seed; held-out evaluation with the job's own judge.")
print()
print("| precision | state | wall s | task | direction | judged before | after | real target | cycle L1 |")
print("|---|---|---|---|---|---|---|---|---|")
for j in jobs:
    job = j.get("job", j)
    res = job.get("result") or {}
    prec = (job.get("config_path") or "").rsplit("/", 1)[-1].removesuffix(".toml")
    wall = (job.get("finished_ms", 0) - job.get("started_ms", 0)) / 1000
    ev = (res.get("evaluation") or {}).get("tasks", {})
    for task, dirs in ev.items():
        for d in ("forward", "reverse"):
            if d not in dirs:
                continue
            r = dirs[d]
            age = "judged_age_before" in r
            k = (("judged_age_before", "judged_age_after", "judged_age_target_real") if age else
                 ("p_target_before", "p_target_after", "p_target_real"))
            vals = " | ".join(f"{r.get(x, float('nan')):.2f}" for x in k)
            print(f"| {prec} | {job.get('state')} | {wall:.0f} | {task} | {r.get('from')} -> {r.get('to')} "
                  f"| {vals} | {r.get('cycle_l1', float('nan')):.3f} |")
EOF
